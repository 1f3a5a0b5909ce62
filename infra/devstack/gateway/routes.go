// Package gateway is the local API gateway: it serves the route table in
// infra/gateway/routes.yaml, proxying each public path to the function that owns it.
package gateway

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Route maps a path prefix to a function.
type Route struct {
	Prefix   string `yaml:"prefix"`
	Function string `yaml:"function"`
}

// Table is the route table, longest prefix first.
type Table struct {
	Routes []Route `yaml:"routes"`
}

// LoadTable reads and checks a route table file.
func LoadTable(path string) (Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Table{}, err
	}
	var t Table
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return Table{}, fmt.Errorf("%s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, r := range t.Routes {
		switch {
		case !strings.HasPrefix(r.Prefix, "/") || strings.HasSuffix(r.Prefix, "/") && r.Prefix != "/":
			return Table{}, fmt.Errorf("%s: prefix %q must start with / and not end with /", path, r.Prefix)
		case r.Function == "":
			return Table{}, fmt.Errorf("%s: prefix %q names no function", path, r.Prefix)
		case seen[r.Prefix]:
			return Table{}, fmt.Errorf("%s: prefix %q is listed twice", path, r.Prefix)
		}
		seen[r.Prefix] = true
	}
	sortTable(&t)
	return t, nil
}

func sortTable(t *Table) {
	sort.SliceStable(t.Routes, func(i, j int) bool { return len(t.Routes[i].Prefix) > len(t.Routes[j].Prefix) })
}

// Match returns the function that serves path, or "". The prefix "/" matches every path
// (the longest prefix still wins, so it only takes what no other prefix claims).
func (t Table) Match(path string) string {
	for _, r := range t.Routes {
		if path == r.Prefix || strings.HasPrefix(path, strings.TrimSuffix(r.Prefix, "/")+"/") {
			return r.Function
		}
	}
	return ""
}

// Functions lists the functions the table routes to.
func (t Table) Functions() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range t.Routes {
		if !seen[r.Function] {
			seen[r.Function] = true
			out = append(out, r.Function)
		}
	}
	sort.Strings(out)
	return out
}
