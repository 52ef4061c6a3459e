package access_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/womendefiningai/platform/domain/access"
)

func TestParseScope(t *testing.T) {
	t.Parallel()
	names := []string{
		"members:read", "members:read:pii", "members:write", "billing:read",
		"events:read", "events:write", "audit:read", "ops:read", "ops:write",
	}
	all := access.AllScopes()
	if len(all) != len(names) {
		t.Fatalf("AllScopes() has %d scopes, want %d", len(all), len(names))
	}
	for i, name := range names {
		got, err := access.ParseScope(name)
		if err != nil || got != all[i] || got.String() != name {
			t.Errorf("ParseScope(%q) = %v, %v; want %v", name, got, err, all[i])
		}
	}
	for _, bad := range []string{"", "members", "MEMBERS:READ", " members:read", "members:*", "admin"} {
		_, err := access.ParseScope(bad)
		if !errors.Is(err, access.ErrUnknownScope) {
			t.Errorf("ParseScope(%q) error = %v, want ErrUnknownScope", bad, err)
			continue
		}
		if !strings.Contains(err.Error(), "members:read:pii") {
			t.Errorf("ParseScope(%q) error %q does not list the known scopes", bad, err)
		}
	}
	if got := access.Scope(0).String(); got != "Scope(0)" {
		t.Errorf("invalid scope prints as %q", got)
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := access.ParseScopes([]string{"billing:read", "members:read", "billing:read"})
	if want := []access.Scope{access.ScopeBillingRead, access.ScopeMembersRead}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseScopes = %v, %v; want %v", got, err, want)
	}
	if _, err := access.ParseScopes([]string{"members:read", "members:delete"}); !errors.Is(err, access.ErrUnknownScope) {
		t.Errorf("ParseScopes with an unknown scope: error = %v, want ErrUnknownScope", err)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []access.Scope
	}{
		{"member", []access.Scope{access.ScopeMembersRead, access.ScopeEventsRead}},
		{"leader", []access.Scope{access.ScopeMembersRead, access.ScopeEventsRead, access.ScopeEventsWrite, access.ScopeAuditRead}},
		{"admin", access.AllScopes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := access.ParseRole(tt.name)
			if err != nil || r.String() != tt.name {
				t.Fatalf("ParseRole(%q) = %v, %v", tt.name, r, err)
			}
			if got := r.Scopes(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scopes = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := access.ParseRole("owner"); !errors.Is(err, access.ErrUnknownRole) {
		t.Errorf("ParseRole(owner) error = %v, want ErrUnknownRole", err)
	}
	if r := access.Role(0); r.String() != "Role(0)" || len(r.Scopes()) != 0 {
		t.Errorf("no role prints %q and grants %v", r.String(), r.Scopes())
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []access.Scope
	}{
		{"finance", []access.Scope{access.ScopeMembersRead, access.ScopeBillingRead}},
		{"support", []access.Scope{access.ScopeMembersRead, access.ScopeMembersReadPII, access.ScopeBillingRead, access.ScopeAuditRead}},
		{"engagement", []access.Scope{access.ScopeMembersRead, access.ScopeEventsRead}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := access.ParsePreset(tt.name)
			if err != nil || p.String() != tt.name {
				t.Fatalf("ParsePreset(%q) = %v, %v", tt.name, p, err)
			}
			if got := p.Scopes(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("scopes = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := access.ParsePreset("marketing"); !errors.Is(err, access.ErrUnknownPreset) {
		t.Errorf("ParsePreset(marketing) error = %v, want ErrUnknownPreset", err)
	}
	if p := access.Preset(0); p.String() != "Preset(0)" || len(p.Scopes()) != 0 {
		t.Errorf("invalid preset prints %q and grants %v", p.String(), p.Scopes())
	}
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	for _, want := range []access.Kind{access.KindUser, access.KindAgent, access.KindSystem} {
		if got, err := access.ParseKind(want.String()); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %v, %v", want.String(), got, err)
		}
	}
	if _, err := access.ParseKind("robot"); !errors.Is(err, access.ErrUnknownKind) {
		t.Errorf("ParseKind(robot) error = %v, want ErrUnknownKind", err)
	}
	if got := access.Kind(0).String(); got != "Kind(0)" {
		t.Errorf("invalid kind prints as %q", got)
	}
}

func mustUser(t *testing.T, id string, role access.Role) access.Principal {
	t.Helper()
	p, err := access.NewUser(id, role, true)
	if err != nil {
		t.Fatalf("NewUser: %v", err)
	}
	return p
}

func mustAgent(t *testing.T, id string, scopes ...access.Scope) access.Principal {
	t.Helper()
	p, err := access.NewAgent(id, scopes)
	if err != nil {
		t.Fatalf("NewAgent: %v", err)
	}
	return p
}

func TestPrincipals(t *testing.T) {
	t.Parallel()
	user := mustUser(t, " person_1 ", access.RoleLeader)
	agent := mustAgent(t, "key_1", access.PresetFinance.Scopes()...)
	system, err := access.NewSystem("job:slack-sync")
	if err != nil {
		t.Fatalf("NewSystem: %v", err)
	}
	anonymous := access.Anonymous()

	tests := []struct {
		name          string
		p             access.Principal
		wantKind      access.Kind
		wantID        string
		wantAnonymous bool
		wantScopes    []access.Scope
		wantString    string
	}{
		{"user", user, access.KindUser, "person_1", false, access.RoleLeader.Scopes(), "user:person_1"},
		{"agent", agent, access.KindAgent, "key_1", false, access.PresetFinance.Scopes(), "agent:key_1"},
		{"system", system, access.KindSystem, "job:slack-sync", false, access.AllScopes(), "system:job:slack-sync"},
		{"anonymous", anonymous, access.KindUser, "", true, []access.Scope{}, "anonymous"},
		{"zero value", access.Principal{}, access.KindUser, "", true, []access.Scope{}, "anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.p.Kind() != tt.wantKind || tt.p.ID() != tt.wantID || tt.p.IsAnonymous() != tt.wantAnonymous || tt.p.String() != tt.wantString {
				t.Errorf("got kind %s, id %q, anonymous %t, string %q", tt.p.Kind(), tt.p.ID(), tt.p.IsAnonymous(), tt.p.String())
			}
			if got := tt.p.Scopes(); !reflect.DeepEqual(got, tt.wantScopes) {
				t.Errorf("scopes = %v, want %v", got, tt.wantScopes)
			}
		})
	}
}

func TestPrincipalConstructorsRefuseBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		make    func() (access.Principal, error)
		wantErr error
	}{
		{"user without id", func() (access.Principal, error) {
			return access.NewUser(" ", access.RoleMember, true)
		}, access.ErrMissingID},
		{"user without role", func() (access.Principal, error) { return access.NewUser("person_1", 0, true) }, access.ErrUnknownRole},
		{"agent without id", func() (access.Principal, error) { return access.NewAgent("", []access.Scope{access.ScopeOpsRead}) }, access.ErrMissingID},
		{"agent without scopes", func() (access.Principal, error) { return access.NewAgent("key_1", nil) }, access.ErrNoScopes},
		{"agent with an invalid scope", func() (access.Principal, error) {
			return access.NewAgent("key_1", []access.Scope{access.ScopeOpsRead, access.Scope(42)})
		}, access.ErrUnknownScope},
		{"system without id", func() (access.Principal, error) { return access.NewSystem("") }, access.ErrMissingID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.make()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if p != (access.Principal{}) {
				t.Errorf("refused principal is %v, want the zero Principal", p)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	t.Parallel()
	member := mustUser(t, "person_1", access.RoleMember)
	leader := mustUser(t, "person_2", access.RoleLeader)
	admin := mustUser(t, "person_3", access.RoleAdmin)
	finance := mustAgent(t, "key_finance", access.PresetFinance.Scopes()...)
	support := mustAgent(t, "key_support", access.PresetSupport.Scopes()...)
	engagement := mustAgent(t, "key_engagement", access.PresetEngagement.Scopes()...)
	system, _ := access.NewSystem("worker")

	tests := []struct {
		name      string
		p         access.Principal
		required  []access.Scope
		want      bool
		wantLacks []access.Scope
	}{
		{"anyone may run an operation that requires nothing", access.Anonymous(), nil, true, nil},
		{"anonymous may not read members", access.Anonymous(), []access.Scope{access.ScopeMembersRead}, false, []access.Scope{access.ScopeMembersRead}},
		{"a member reads the directory", member, []access.Scope{access.ScopeMembersRead}, true, nil},
		{"a member may not create events", member, []access.Scope{access.ScopeEventsWrite}, false, []access.Scope{access.ScopeEventsWrite}},
		{"a leader creates events", leader, []access.Scope{access.ScopeEventsRead, access.ScopeEventsWrite}, true, nil},
		{"a leader may not read billing", leader, []access.Scope{access.ScopeBillingRead}, false, []access.Scope{access.ScopeBillingRead}},
		{"an admin replays dead letters", admin, []access.Scope{access.ScopeOpsRead, access.ScopeOpsWrite}, true, nil},
		{"the finance agent reads billing", finance, []access.Scope{access.ScopeMembersRead, access.ScopeBillingRead}, true, nil},
		{"the finance agent may not read emails", finance, []access.Scope{access.ScopeMembersReadPII}, false, []access.Scope{access.ScopeMembersReadPII}},
		{"the support agent reads the audit log", support, []access.Scope{access.ScopeAuditRead}, true, nil},
		{"the support agent may not write members", support, []access.Scope{access.ScopeMembersWrite, access.ScopeMembersRead, access.ScopeMembersWrite}, false, []access.Scope{access.ScopeMembersWrite}},
		{"the engagement agent may not run jobs", engagement, []access.Scope{access.ScopeOpsWrite, access.ScopeEventsWrite}, false, []access.Scope{access.ScopeOpsWrite, access.ScopeEventsWrite}},
		{"the system runs jobs", system, []access.Scope{access.ScopeOpsWrite, access.ScopeMembersWrite}, true, nil},
		{"no one holds an invalid scope", system, []access.Scope{access.Scope(0)}, false, []access.Scope{access.Scope(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := access.Allows(tt.p, tt.required...); got != tt.want {
				t.Errorf("Allows = %t, want %t", got, tt.want)
			}
			err := access.Authorize(tt.p, tt.required...)
			if tt.want {
				if err != nil {
					t.Errorf("Authorize = %v, want nil", err)
				}
				return
			}
			var missing access.MissingScopesError
			if !errors.As(err, &missing) || !errors.Is(err, access.ErrForbidden) {
				t.Fatalf("Authorize = %v, want a MissingScopesError matching ErrForbidden", err)
			}
			if !reflect.DeepEqual(missing.Missing, tt.wantLacks) {
				t.Errorf("missing = %v, want %v", missing.Missing, tt.wantLacks)
			}
			if !strings.Contains(err.Error(), tt.wantLacks[0].String()) {
				t.Errorf("error %q does not name %s", err, tt.wantLacks[0])
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	member := mustUser(t, "person_1", access.RoleMember)
	admin := mustUser(t, "person_9", access.RoleAdmin)
	finance := mustAgent(t, "key_finance", access.PresetFinance.Scopes()...)
	support := mustAgent(t, "key_support", access.PresetSupport.Scopes()...)
	lookalike := mustAgent(t, "person_1", access.ScopeMembersRead)
	system, _ := access.NewSystem("worker")
	all := access.AllFields()

	tests := []struct {
		name    string
		p       access.Principal
		subject string
		want    []access.Field
	}{
		{"a member sees all of their own record", member, "person_1", []access.Field{}},
		{"a member's own record, id written with spaces", member, " person_1 ", []access.Field{}},
		{"a member sees no one else's personal data", member, "person_2", all},
		{"an admin sees everything", admin, "person_2", []access.Field{}},
		{"the finance agent sees billing but no emails, nor why someone has access", finance, "person_2", []access.Field{access.FieldEmail, access.FieldExternalIDs, access.FieldAccess}},
		{"the support agent sees everything", support, "person_2", []access.Field{}},
		{"an agent whose id equals the subject's is still an agent", lookalike, "person_1", all},
		{"anonymous sees nothing, even on a record without a subject id", access.Anonymous(), "", all},
		{"the system sees everything", system, "person_2", []access.Field{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := access.RedactionFor(tt.p, tt.subject)
			if got := r.Fields(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("hidden = %v, want %v", got, tt.want)
			}
			if r.None() != (len(tt.want) == 0) {
				t.Errorf("None() = %t with %v hidden", r.None(), tt.want)
			}
			for _, f := range all {
				hidden := false
				for _, w := range tt.want {
					hidden = hidden || w == f
				}
				if r.Hides(f) != hidden {
					t.Errorf("Hides(%s) = %t, want %t", f, r.Hides(f), hidden)
				}
			}
			if !r.Hides(access.Field(0)) {
				t.Error("an unknown field is not hidden")
			}
		})
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field    access.Field
		name     string
		requires access.Scope
	}{
		{access.FieldEmail, "email", access.ScopeMembersReadPII},
		{access.FieldExternalIDs, "external_ids", access.ScopeMembersReadPII},
		{access.FieldBilling, "billing", access.ScopeBillingRead},
		{access.Field(0), "Field(0)", access.Scope(0)},
	}
	for _, tt := range tests {
		if tt.field.String() != tt.name || tt.field.Requires() != tt.requires {
			t.Errorf("field %q requires %v; want %q requiring %v", tt.field.String(), tt.field.Requires(), tt.name, tt.requires)
		}
	}
}

// TestTheDirectoryNeedsACurrentMembership: signing up makes a person a
// member by role, but only access (which the access ledger decides: a paid
// subscription, the grace window, a scholarship, a manual grant) opens the
// directory. Leaders and admins keep their role's scopes whatever their
// membership.
func TestTheDirectoryNeedsACurrentMembership(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		role      access.Role
		hasAccess bool
		directory bool
	}{
		{"member who signed up and never paid", access.RoleMember, false, false},
		{"member whose checkout is pending", access.RoleMember, false, false},
		{"member who is active", access.RoleMember, true, true},
		{"member in the grace window after a failed payment", access.RoleMember, true, true},
		{"member whose payment failed, grace over", access.RoleMember, false, false},
		{"member with a scholarship and no subscription", access.RoleMember, true, true},
		{"member whose membership was canceled", access.RoleMember, false, false},
		{"member whose membership is suspended (unpaid, paused)", access.RoleMember, false, false},
		{"leader without a membership", access.RoleLeader, false, true},
		{"leader whose membership was canceled", access.RoleLeader, false, true},
		{"admin without a membership", access.RoleAdmin, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := access.NewUser("person_1", tt.role, tt.hasAccess)
			if err != nil {
				t.Fatal(err)
			}
			if got := access.Allows(p, access.ScopeMembersRead); got != tt.directory {
				t.Errorf("members:read allowed = %t, want %t", got, tt.directory)
			}
			want := tt.role.Scopes()
			if !tt.directory { // nor the events: members see them (the seed)
				want = []access.Scope{}
			}
			if got := p.Scopes(); !reflect.DeepEqual(got, want) {
				t.Errorf("scopes = %v, want %v", got, want)
			}
			if !reflect.DeepEqual(access.UserScopes(tt.role, tt.hasAccess), want) {
				t.Errorf("UserScopes = %v, want %v", access.UserScopes(tt.role, tt.hasAccess), want)
			}
			// Whoever may not read the directory still sees all of their
			// own record, and nobody else's personal data.
			if !access.RedactionFor(p, "person_1").None() {
				t.Error("own record redacted")
			}
		})
	}
}
