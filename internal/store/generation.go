package store

// Generation counts the changes to what the store's queries return: every
// Append, and every Erase (counted as it starts hiding the erased keys).
// Folds and compactions move events between files without changing what
// a query sees, so they are not counted. Both counters only grow.
//
// A reader that caches what it derived from a scan reads the Generation
// before the scan: every change it counts is visible to the scan, so a
// later Generation equal to it means nothing changed since.
type Generation struct {
	Appends  uint64
	Erasures uint64
}

// Generation returns the store's change counters.
func (s *Store) Generation() Generation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Generation{Appends: s.appends, Erasures: s.erasures}
}
