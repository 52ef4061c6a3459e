package config_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/womendefiningai/platform/internal/config"
)

func TestSlackSettings(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1-2", "SLACK_API_URL": "http://127.0.0.1:9/api/"})
	if err != nil || cfg.SlackBotToken != "xoxb-1-2" || cfg.SlackAPIURL != "http://127.0.0.1:9/api/" {
		t.Fatalf("LoadFrom = %+v, %v", cfg, err)
	}
	tests := map[string]struct {
		vars map[string]string
		want []string
	}{
		"user token":     {map[string]string{"SLACK_BOT_TOKEN": "xoxp-1"}, []string{"SLACK_BOT_TOKEN: must be a bot token (xoxb-...)"}},
		"URL, no token":  {map[string]string{"SLACK_API_URL": "https://slack.com/api/"}, []string{"SLACK_BOT_TOKEN: required when SLACK_API_URL is set"}},
		"URL, no scheme": {map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "slack.com/api"}, []string{"SLACK_API_URL: must be an http(s) URL (the Web API root, such as https://slack.com/api/)"}},
		"URL with query": {map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "https://slack.com/api/?x=1"}, []string{"SLACK_API_URL: must be an http(s) URL (the Web API root, such as https://slack.com/api/)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.LoadFrom(tc.vars)
			var cerr *config.Error
			if !errors.As(err, &cerr) || !slices.Equal(cerr.Problems, tc.want) {
				t.Fatalf("LoadFrom = %v, want problems %q", err, tc.want)
			}
		})
	}
}
