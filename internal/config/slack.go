package config

import (
	"net/url"
	"strings"
)

// validateSlack checks the chat workspace: a bot token, and an API root
// only with one.
func (c Config) validateSlack() []string {
	var p []string
	if c.SlackBotToken != "" && !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
		p = append(p, "SLACK_BOT_TOKEN: must be a bot token (xoxb-...)")
	}
	if c.SlackAPIURL == "" {
		return p
	}
	if c.SlackBotToken == "" {
		p = append(p, "SLACK_BOT_TOKEN: required when SLACK_API_URL is set")
	}
	if u, err := url.Parse(c.SlackAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		p = append(p, "SLACK_API_URL: must be an http(s) URL (the Web API root, such as https://slack.com/api/)")
	}
	return p
}
