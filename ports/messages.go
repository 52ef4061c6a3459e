package ports

import (
	"encoding/json"
	"fmt"
	"time"
)

// The bodies of the messages the application publishes, one per topic. The
// publishing use case encodes them with NewMessage; the driving side (the
// worker's per-topic translator) decodes them before calling the use case
// that handles the topic.

// BillingEventMessage is the body of a TopicBillingEvent message: a stored
// billing event to process.
type BillingEventMessage struct {
	EventID string `json:"event_id"`
}

// GuestRegisteredMessage is the body of a TopicGuestRegistered message: a
// stored guest registration (by its delivery id) to decide.
type GuestRegisteredMessage struct {
	DeliveryID string `json:"delivery_id"`
}

// Reasons carried by MemberChangedMessage.
const (
	ReasonSubscriptionSync = "subscription_sync"
	ReasonPaymentFailed    = "payment_failed"
	ReasonPeriodEnd        = "period_end"
)

// MemberChangedMessage is the body of a TopicMemberChanged message: which
// person, why, and the domain events (by name) the change caused.
type MemberChangedMessage struct {
	PersonID string   `json:"person_id"`
	Reason   string   `json:"reason"`
	Events   []string `json:"events"`
	Attempt  int      `json:"attempt,omitempty"`
}

// PeriodEndMessage is the body of a TopicMembershipPeriodEnd message.
type PeriodEndMessage struct {
	PersonID       string    `json:"person_id"`
	SubscriptionID string    `json:"subscription_id"`
	At             time.Time `json:"at"`
}

// PersonEmailChangedMessage is the body of a TopicPersonEmailChanged
// message.
type PersonEmailChangedMessage struct {
	PersonID      string `json:"person_id"`
	PreviousEmail string `json:"previous_email"`
}

// PersonDeletedMessage is the body of a TopicPersonDeleted message. Email
// is the address the person had, so that the list can erase it; it is the
// last copy (message tables keep a row only until it is handled). CustomerID
// is the person's billing customer, erased at the billing provider.
type PersonDeletedMessage struct {
	PersonID   string `json:"person_id"`
	Email      string `json:"email"`
	CustomerID string `json:"customer_id,omitempty"`
}

// JobRunPayload is the body of a TopicJobRun message.
type JobRunPayload struct {
	RunID string `json:"run_id"`
	// Page is the page of a paged run the message runs (0: the first).
	Page int `json:"page,omitempty"`
}

// NewMessage encodes body as the JSON payload of a message to topic.
func NewMessage(topic string, body any) (Message, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Message{}, fmt.Errorf("encode %s message: %w", topic, err)
	}
	return Message{Topic: topic, Payload: b}, nil
}
