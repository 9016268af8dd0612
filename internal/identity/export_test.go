package identity

import "fmt"

// CheckInvariants verifies the graph's internal structure, for tests and
// fuzz targets that want more than the public queries can see.
func (g *Graph) CheckInvariants() error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if len(g.key) != len(g.parent) || len(g.key) != len(g.next) || len(g.key) != len(g.info) {
		return fmt.Errorf("per-node slices differ in length")
	}
	live, reps := 0, 0
	for i := 1; i < len(g.key); i++ {
		n := uint32(i)
		if g.key[n] == "" {
			if g.parent[n] != n || g.next[n] != n || g.info[n] != (setInfo{}) {
				return fmt.Errorf("erased node %d still linked", n)
			}
			continue
		}
		live++
		if g.index[g.key[n]] != n {
			return fmt.Errorf("node %d not indexed under its key", n)
		}
		depth := 0
		for r := n; g.parent[r] != r; r = g.parent[r] {
			if depth++; depth > 32 {
				return fmt.Errorf("node %d: path longer than 32", n)
			}
			if g.key[g.parent[r]] == "" {
				return fmt.Errorf("node %d: parent %d is erased", n, g.parent[r])
			}
		}
		if g.parent[n] != n {
			if g.info[n] != (setInfo{}) {
				return fmt.Errorf("node %d is not a representative but has set info", n)
			}
			continue
		}
		reps++
		var size, anon, users uint32
		cust := n
		for m := n; ; {
			if g.find(m) != n {
				return fmt.Errorf("node %d is on the member list of %d but in another set", m, n)
			}
			size++
			cust = min(cust, m)
			switch k, _ := kindOf(g.key[m]); k {
			case kindUser:
				users++
			case kindAnon:
				anon++
			}
			if m = g.next[m]; m == n {
				break
			}
			if size > uint32(len(g.key)) {
				return fmt.Errorf("member list of %d does not close", n)
			}
		}
		if want := (setInfo{cust: cust, size: size, anon: anon, users: users}); g.info[n] != want {
			return fmt.Errorf("set %d: info %+v, members say %+v", n, g.info[n], want)
		}
	}
	if live != g.live || live != len(g.index) {
		return fmt.Errorf("%d live nodes, counted %d, indexed %d", live, g.live, len(g.index))
	}
	if reps != g.customers {
		return fmt.Errorf("%d sets, counted %d customers", reps, g.customers)
	}
	for c, log := range g.logs {
		if n, ok := g.liveNode(uint64(c)); !ok || g.info[g.find(n)].cust != n {
			return fmt.Errorf("merge log of %d, which is not a customer", c)
		}
		for i := 1; i < len(log); i++ {
			if log[i].seq <= log[i-1].seq {
				return fmt.Errorf("merge log of %d out of order", c)
			}
		}
	}
	return nil
}
