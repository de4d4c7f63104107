package readonly_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stemedb/stemedb/sqlview/readonly"
)

// docPath is the analysts' documentation of the queryable schema.
const docPath = "../../docs/SQL.md"

// TestDocs keeps docs/SQL.md true: every example query runs as written against a
// populated database and returns rows, every documented relation has exactly the
// documented columns in that order, and every queryable relation is documented.
func TestDocs(t *testing.T) {
	data, err := os.ReadFile(docPath)
	require.NoError(t, err)
	doc := string(data)
	_, db := seeded(t, readonly.Options{})

	t.Run("examples", func(t *testing.T) {
		_, examples, ok := strings.Cut(doc, "## Example queries")
		require.True(t, ok)
		examples, _, _ = strings.Cut(examples, "\n## ")
		blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(examples, -1)
		require.GreaterOrEqual(t, len(blocks), 10, "at least ten example queries")
		for _, b := range blocks {
			q := b[1]
			res, err := query(t, db, q)
			if assert.NoError(t, err, q) {
				assert.NotEmpty(t, res.Rows, "the example returns rows on the seeded data:\n%s", q)
				assert.False(t, res.Truncated, q)
			}
		}
	})

	t.Run("schema", func(t *testing.T) {
		section := regexp.MustCompile("(?m)^### `([a-z_]+)`\n")
		row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|")
		locs := section.FindAllStringSubmatchIndex(doc, -1)
		documented := map[string]bool{}
		for i, loc := range locs {
			name := doc[loc[2]:loc[3]]
			end := len(doc)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			var cols []string
			for _, m := range row.FindAllStringSubmatch(doc[loc[1]:end], -1) {
				cols = append(cols, m[1])
			}
			assert.Equal(t, columns(t, db, name), cols, "documented columns of %s", name)
			documented[name] = true
		}
		for _, v := range readonly.PinnedViews() {
			assert.True(t, documented[v], "%s is documented", v)
		}
		want := columns(t, db, "resolved_consensus")
		for _, lens := range readonly.DefaultLenses() {
			view := "resolved_" + snake(lens)
			assert.Contains(t, doc, "`"+view+"`", "%s is named in the docs", view)
			assert.Equal(t, want, columns(t, db, view), view)
		}
	})
}

func columns(t *testing.T, db *readonly.DB, relation string) []string {
	t.Helper()
	res, err := db.QueryAll(context.Background(), readonly.Request{SQL: "SELECT name FROM pragma_table_info(?) ORDER BY cid", Args: []any{relation}})
	require.NoError(t, err, relation)
	var out []string
	for _, r := range res.Rows {
		out = append(out, r[0].(string))
	}
	return out
}

// snake is the lens view naming rule, restated for the built-in names.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
