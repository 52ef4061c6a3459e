package postgres

// HasAccessSQL exposes the ledger's rule in SQL to the agreement test.
var HasAccessSQL = hasAccessSQL

// ErasedGuestNote is the note erasure gives an undecided registration.
const ErasedGuestNote = erasedGuestNote
