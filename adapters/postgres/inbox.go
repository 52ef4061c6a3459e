package postgres

import (
	"context"
	"fmt"

	"github.com/womendefiningai/platform/ports"
)

// WebhookInbox implements ports.WebhookInbox on the webhook_inbox table.
type WebhookInbox struct{ q Querier }

var _ ports.WebhookInbox = (*WebhookInbox)(nil)

// NewWebhookInbox returns an inbox on a pool or a transaction.
func NewWebhookInbox(q Querier) *WebhookInbox { return &WebhookInbox{q: q} }

// Claim inserts (source, id) and reports whether this call was the first.
func (i *WebhookInbox) Claim(ctx context.Context, source, deliveryID string) (bool, error) {
	tag, err := i.q.Exec(ctx, `INSERT INTO webhook_inbox (source, delivery_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, source, deliveryID)
	if err != nil {
		return false, fmt.Errorf("postgres: claim delivery: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
