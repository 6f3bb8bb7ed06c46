// Optinflow's change to this driver: statements kept prepared per connection.
//
// The driver prepares (parses and plans) every statement on every execution and finalizes it
// afterwards; FerretDB runs the same few statements per collection over and over, and the parsing
// was about a seventh of its CPU time. A statement whose SQL text is one statement is reset and kept
// instead, keyed by that text, and taken out of the cache while it runs (so an open result set and
// a second execution of the same text on the same connection each have their own).

package sqlite

import (
	"unsafe"

	sqlite3 "modernc.org/sqlite/lib"
)

// stmtCacheMax bounds the statements kept per connection; past it one of them is finalized.
const stmtCacheMax = 64

// prepareNext prepares the statement at *psql, or takes it from the cache when it is the whole of
// s's SQL; keep tells whether it may go back to the cache after use.
func (s *stmt) prepareNext(psql *uintptr) (pstmt uintptr, keep bool, err error) {
	whole := *psql == s.psql
	if whole {
		if pstmt = s.c.stmtCache[s.sql]; pstmt != 0 {
			delete(s.c.stmtCache, s.sql)
			*psql = s.psql + uintptr(len(s.sql))
			return pstmt, true, nil
		}
	}
	if pstmt, err = s.c.prepareV2(psql); err != nil {
		return 0, false, err
	}
	return pstmt, whole && pstmt != 0 && blankFrom(*psql), nil
}

// blankFrom reports whether only white space is left of the C string at p.
func blankFrom(p uintptr) bool {
	for ; ; p++ {
		switch *(*byte)(unsafe.Pointer(p)) {
		case 0:
			return true
		case ' ', '\t', '\n', '\r', ';':
		default:
			return false
		}
	}
}

// release gives back a statement after use: reset and kept for its SQL, or finalized.
func (c *conn) release(pstmt uintptr, sql string, keep bool) error {
	if pstmt == 0 {
		return nil
	}
	if !keep || c.db == 0 {
		return c.finalize(pstmt)
	}
	if rc := sqlite3.Xsqlite3_reset(c.tls, pstmt); rc != sqlite3.SQLITE_OK {
		err := c.errstr(rc)
		c.finalize(pstmt)
		return err
	}
	sqlite3.Xsqlite3_clear_bindings(c.tls, pstmt)
	if _, taken := c.stmtCache[sql]; taken {
		return c.finalize(pstmt)
	}
	if c.stmtCache == nil {
		c.stmtCache = make(map[string]uintptr)
	}
	if len(c.stmtCache) >= stmtCacheMax {
		for other, p := range c.stmtCache {
			delete(c.stmtCache, other)
			c.finalize(p)
			break
		}
	}
	c.stmtCache[sql] = pstmt
	return nil
}

// newKeptRows is newRows for a statement that goes back to the cache when the rows are closed.
func (c *conn) newKeptRows(pstmt uintptr, allocs []uintptr, empty bool, sql string, keep bool) (*rows, error) {
	r, err := newRows(c, pstmt, allocs, empty)
	if err != nil {
		return nil, err
	}
	r.sql, r.keep = sql, keep
	return r, nil
}

// dropCachedStmts finalizes every kept statement, before the connection closes.
func (c *conn) dropCachedStmts() {
	for sql, p := range c.stmtCache {
		delete(c.stmtCache, sql)
		c.finalize(p)
	}
}
