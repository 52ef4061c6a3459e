// Package access is the one authorisation model for every caller of the
// platform: people signed in through the identity provider, AI agents holding
// API keys, and the system itself (cron jobs, the message worker).
//
// It decides two things for a Principal:
//   - whether it may run an operation (Allows, Authorize): every scope the
//     operation requires must be held;
//   - which fields of a person's record must be hidden from it (RedactionFor).
//
// It does not authenticate anyone (verifying a session token or an API key
// is an adapter's job), does not know which operation needs which scopes
// (the application and the GraphQL layer declare that), and does not store
// agent keys or rate limits.
package access
