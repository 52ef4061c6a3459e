package graph

import (
	"strings"

	"github.com/womendefiningai/platform/domain/access"
	"github.com/womendefiningai/platform/graph/model"
)

func intOr(v *int32, def int) int {
	if v == nil {
		return def
	}
	return int(*v)
}

func modelStatus(s string) model.MembershipStatus { return model.MembershipStatus(strings.ToUpper(s)) }

func modelScopes(scopes []access.Scope) []model.Scope {
	out := make([]model.Scope, 0, len(scopes))
	for _, s := range scopes {
		out = append(out, model.Scope(strings.ToUpper(strings.ReplaceAll(s.String(), ":", "_"))))
	}
	return out
}
