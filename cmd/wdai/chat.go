package main

import (
	"time"

	"github.com/womendefiningai/platform/adapters/postgres"
	"github.com/womendefiningai/platform/adapters/slack"
	"github.com/womendefiningai/platform/application"
	"github.com/womendefiningai/platform/internal/breaker"
	"github.com/womendefiningai/platform/internal/config"
	"github.com/womendefiningai/platform/ports"
)

// chatPageBudget bounds one page of the chat sync (a directory page of
// 1,000 accounts, its writes, and a rate-limit wait of up to 10s); it
// stays inside the router's handler timeout.
const chatPageBudget = 15 * time.Second

// buildChatDirectory is Slack's directory, unconfigured without a token,
// its calls through Slack's circuit breaker.
func buildChatDirectory(cfg config.Config, breakers *breaker.Set) (*slack.Directory, error) {
	return slack.New(slack.Config{Token: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL,
		HTTPClient: breakers.Client(slack.ProviderName, nil, slack.DefaultTimeout)})
}

// chat builds the chat workspace's use cases.
func (b *appBuilder) chat(app *application.App) {
	uow := keep(postgres.Scope[ports.ChatStatusTx](b.s.uow)).into(&b.err)
	if b.err != nil {
		return
	}
	reads := postgres.NewChatStatusStore(b.s.pool)
	app.Commands.SyncChatStatus = keep(application.NewSyncChatStatus(b.p.chat, reads, uow, b.s.clock, application.DefaultChatSync)).into(&b.err)
	app.Queries.GetChatLinks = keep(application.NewGetChatLinks(reads)).into(&b.err)
	app.Queries.GetChatSummary = keep(application.NewGetChatSummary(reads)).into(&b.err)
}
