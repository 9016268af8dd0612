package identity

// CustomerTable returns, for every node key from 0 to the largest given
// so far, the customer that key belongs to now (0 for key 0 and for
// erased nodes), reusing dst's memory when it is large enough. It reads the whole graph under one read
// lock, so a query that maps every key of a scan to its customer sees one
// consistent graph, at four bytes a node instead of a lock per key.
func (g *Graph) CustomerTable(dst []uint32) []uint32 {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := len(g.key)
	dst = append(dst[:0], make([]uint32, n)...)
	for i := 1; i < n; i++ {
		if g.key[i] == "" {
			continue
		}
		dst[i] = g.info[g.find(uint32(i))].cust
	}
	return dst
}
