package messaging

import (
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/womendefiningai/platform/ports"
)

// TopicDelayed holds scheduled messages until their time comes; the router
// then moves each one to its target topic. Publish to it through a Scheduler,
// never directly.
const TopicDelayed = "delayed"

// Topics lists every topic that has a message table. The tables are created
// by migrations, never at run time: publishing to, handling or scheduling for
// a topic missing here fails with ErrUnknownTopic.
//
// To add a topic: add its constant in ports, add it here, and add a migration
// with `SELECT messaging_create_topic('the.topic');`. TestEveryTopicHasATable
// fails until all three agree.
var Topics = []string{
	ports.TopicBillingEvent,
	ports.TopicMemberChanged,
	ports.TopicPersonEmailChanged,
	ports.TopicPersonDeleted,
	ports.TopicMembershipPeriodEnd,
	ports.TopicJobRun,
	ports.TopicGuestRegistered,
	ports.TopicAccessCheck,
	ports.TopicAccessReminder,
	TopicDelayed,
}

// ErrUnknownTopic is returned for a topic that is not in Topics.
var ErrUnknownTopic = errors.New("messaging: unknown topic")

func checkTopic(topic string) error {
	if !slices.Contains(Topics, topic) {
		return fmt.Errorf("%w %q (add it to messaging.Topics and create its table in a migration)", ErrUnknownTopic, topic)
	}
	return nil
}

// checkDeliverable accepts the topics that handlers consume and publishers
// and schedulers write to directly: every known topic except TopicDelayed.
func checkDeliverable(topic string) error {
	if topic == TopicDelayed {
		return fmt.Errorf("messaging: topic %q is internal: use a Scheduler", TopicDelayed)
	}
	return checkTopic(topic)
}

// tableName is Watermill's table for topic, quoted: "watermill_<topic>".
func tableName(topic string) string {
	return pgx.Identifier{"watermill_" + topic}.Sanitize()
}
