package sqlite

import (
	"fmt"
	"strings"

	"github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata"
	"github.com/FerretDB/FerretDB/internal/handler/sjson"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

// idInLimit keeps the statement under SQLite's limit on bound parameters (32,766).
const idInLimit = 20000

// idInClause narrows `{_id: {$in: [...]}}` by the _id index: the handler applies the whole filter
// to what comes back, so a list this cannot express (other values than strings and ObjectIDs, or
// too many) is simply not pushed down.
func idInClause(filter *types.Document) (string, []any) {
	if filter == nil || !filter.Has("_id") {
		return "", nil
	}

	v, _ := filter.Get("_id")

	cond, ok := v.(*types.Document)
	if !ok || cond.Len() != 1 || !cond.Has("$in") {
		return "", nil
	}

	in, _ := cond.Get("$in")

	list, ok := in.(*types.Array)
	if !ok || list.Len() == 0 || list.Len() > idInLimit {
		return "", nil
	}

	args := make([]any, 0, list.Len())

	for i := 0; i < list.Len(); i++ {
		e, _ := list.Get(i)

		switch e.(type) {
		case string, types.ObjectID:
			args = append(args, string(must.NotFail(sjson.MarshalSingleValue(e))))
		default:
			return "", nil
		}
	}

	return fmt.Sprintf(` WHERE %s IN (?%s)`, metadata.IDColumn, strings.Repeat(`, ?`, len(args)-1)), args
}
