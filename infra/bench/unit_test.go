package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseParamsReadsPostgreSQLsParameterDetail(t *testing.T) {
	got, err := parseParams(`parameters: $1 = '\x0a1b', $2 = NULL, $3 = 'it''s, $4 = x', $4 = '{"a": 1}'`)
	if err != nil || len(got) != 4 || *got[0] != `\x0a1b` || got[1] != nil || *got[2] != `it's, $4 = x` || *got[3] != `{"a": 1}` {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := parseParams(""); err != nil || got != nil {
		t.Fatalf("no detail: %v, %v", got, err)
	}
	for _, bad := range []string{`parameters: $1 = 'open`, `parameters: $1 = 'a', $3 = 'b'`, `parameters: $1 = 42`} {
		if _, err := parseParams(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestBuildScriptFollowsTheTraceAndRefusesDrift(t *testing.T) {
	p := func(s string) *string { return &s }
	spec := ceilingSpec{
		Sets: []string{`\set app {apps}`},
		Steps: []step{
			{Match: "FROM apps", Bind: map[int]string{1: "app"}, Store: `\gset`, Cols: []string{"id"}},
			{Match: "begin"},
			{Match: "INSERT INTO t", Bind: map[int]string{1: "id"}},
			{Match: "DELETE FROM t", If: "random(1, 1000) = 1", Optional: true},
			{Match: "commit"},
		},
	}
	request := []traced{
		{SQL: "SELECT id FROM apps WHERE code = $1", Params: []*string{p("7")}},
		{SQL: "begin"},
		{SQL: "INSERT INTO t (a, b, c) VALUES ($1, $2, $3::interval)", Params: []*string{p("x"), p("it's"), nil}},
		{SQL: "commit"},
	}
	sc, counts, err := buildScript(spec, append(append([]traced{}, request...), request...), map[string]string{"apps": "12"})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts[0] != 4 {
		t.Errorf("counts = %v, want two requests of four statements", counts)
	}
	want := "\\set app 12\nSELECT * FROM (SELECT id FROM apps WHERE code = :app) AS q(id) \\gset\nbegin;\n" +
		"INSERT INTO t (a, b, c) VALUES (:id, :p2_2, NULL::interval);\ncommit;\n"
	if sc.Text != want {
		t.Errorf("script:\n%s\nwant:\n%s", sc.Text, want)
	}
	if sc.Defines["p2_2"] != "it's" || sc.Defines["n"] != "0" || sc.Statements != 4 {
		t.Errorf("defines %v, %v statements", sc.Defines, sc.Statements)
	}
	extra := append(append([]traced{}, request[:3]...), traced{SQL: "UPDATE secret SET x = 1"}, request[3])
	if _, _, err := buildScript(spec, extra, nil); err == nil || !strings.Contains(err.Error(), "no ceiling step models") {
		t.Errorf("an unmodelled statement: %v", err)
	}
	missing := append(append([]traced{}, request[:2]...), request[3])
	if _, _, err := buildScript(spec, missing, nil); err == nil || !strings.Contains(err.Error(), "INSERT INTO t") {
		t.Errorf("a missing statement: %v", err)
	}
	short := []traced{request[0], request[1], {SQL: "INSERT INTO t (a) VALUES (2)"}, request[3]}
	if _, _, err := buildScript(spec, short, nil); err == nil || !strings.Contains(err.Error(), "binds $1") {
		t.Errorf("a statement without the bound parameter: %v", err)
	}
}

func TestParseBench(t *testing.T) {
	out := "goos: linux\npkg: github.com/jinlaiban/openplatform/shared/seal\nBenchmarkOpenMobile-2   	 2626868	       451.2 ns/op	    1360 B/op	       6 allocs/op\nPASS\n"
	got := parseBench(out)
	if len(got) != 1 || got[0] != (Micro{Package: "seal", Name: "OpenMobile", NsOp: 451.2, BytesOp: 1360, AllocsOp: 6}) {
		t.Fatalf("got %+v", got)
	}
}

func TestPercentilesAreNearestRank(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if pct(lat, 0.5) != 50 || pct(lat, 0.99) != 99 || pct(lat, 1) != 100 || pct(nil, 0.5) != 0 || pct(lat[:1], 0.99) != 1 {
		t.Errorf("p50 %v p99 %v", pct(lat, 0.5), pct(lat, 0.99))
	}
}

func TestPerfReportIsReadBySymbolAndTabulatedPerRequest(t *testing.T) {
	out := `# Samples: 15K of event 'cpu-clock:ppp'
#
# Overhead       Samples  Symbol
# ........  ............  ......
#
     8.34%          1235  [k] _raw_spin_unlock_irqrestore
     2.65%           392  [.] hash_search_with_hash_value
     0.72%           107  [.] 0x0000000000446bf2
`
	got := parsePerfReport(out)
	if len(got) != 3 || got["[k] _raw_spin_unlock_irqrestore"] != 1235 || got["[.] hash_search_with_hash_value"] != 392 || got["[.] 0x0000000000446bf2"] != 107 {
		t.Fatalf("parsed %v", got)
	}
	// 999 samples are a CPU-second: 999 samples over 1000 requests are 1000 µs each.
	lines := perfTable(map[string]int{"[.] a": 999, "[k] b": 1998}, map[string]int{"[.] a": 999}, 1000, 2000, 5)
	want := []string{"1000.0      500.0  all of PostgreSQL", "2000.0        0.0  the kernel", "2000.0        0.0  [k] b", "1000.0      500.0  [.] a"}
	if len(lines) != 5 {
		t.Fatalf("table %q", lines)
	}
	for i, w := range want {
		if !strings.Contains(lines[i+1], w) {
			t.Errorf("line %d: %q, want %q", i+1, lines[i+1], w)
		}
	}
}
