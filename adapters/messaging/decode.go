package messaging

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// Decode is the driving side of one topic: it decodes the message's JSON
// body into T and calls handle with it. A body that is not T's JSON fails
// permanently (retrying cannot fix it): the message goes to the dead
// letters. Use cases see their input, never the transport message.
func Decode[T any](handle func(ctx context.Context, msg ports.Message, body T) error) HandlerFunc {
	return func(ctx context.Context, msg ports.Message) error {
		var body T
		if err := json.Unmarshal(msg.Payload, &body); err != nil {
			return ports.Permanent(fmt.Errorf("messaging: message %s on %s: malformed body: %w", msg.ID, msg.Topic, err))
		}
		return handle(ctx, msg, body)
	}
}
