package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The database ceiling of an operation is pgbench running the statements the operation
// runs, in the same order, as one client per worker. The statements are not copied here:
// the harness traces them from the running function (log_statement=all for one instance,
// told apart by its application_name), so the script is the code's SQL as it is today. What
// the harness adds is the parameters: a step names a statement by a fragment of its text
// and says which parameters pgbench must vary per transaction (the appCode, a fresh ticket,
// a nonce, the application id returned by the first query, ...); every other parameter is
// the value the function sent in the trace. A statement the function runs that no step
// names, or a step whose statement the function no longer runs, fails the benchmark:
// the ceiling cannot silently drift from the code.

type step struct {
	Match    string         // a fragment of the statement's text ("begin" and "commit" match exactly)
	Bind     map[int]string // $n → a pgbench variable, for the parameters varied per transaction
	Store    string         // `\gset` or `\aset`: keep the result's columns as variables
	Cols     []string       // name the result's columns (wrapped as SELECT * FROM (…) q(cols))
	If       string         // run only when this pgbench expression holds
	Optional bool           // the trace may lack it (a rare or conditional statement)
}

type ceilingSpec struct {
	Sets  []string // pgbench \set lines, with {placeholders}
	Steps []step
}

// The verifier's statements, at the start of every signed request (shared/vendorauth).
var verifySteps = []step{
	{Match: "JOIN app_secrets s ON", Bind: map[int]string{1: "app_code"}, Store: `\aset`,
		Cols: []string{"app_id", "vendor_id", "level", "secret_id", "environment", "secret"}},
	{Match: "INSERT INTO request_nonces", Bind: map[int]string{1: "app_id", 2: "nonce", 4: "secret_id"}},
	{Match: "DELETE FROM request_nonces", If: "random(1, 1000) = 1", Optional: true},
}

var commonSets = []string{
	`\set n :n + 1`,
	`\set app (:client_id * {spread} + :n) % {apps}`,
	`\set app_code {codeBase} + :app`,
	`\set nonce random({randomBase}, {randomTop})`,
}

func with(steps ...[]step) []step { return slices.Concat(steps...) }

var (
	admitStep     = step{Match: "INSERT INTO rate_windows", Bind: map[int]string{1: "app_id"}}
	citizenOfStep = step{Match: "FROM pairwise_ids p WHERE", Bind: map[int]string{1: "app_id", 2: "pw"}, Store: `\gset`}
	capSets       = []string{`\set pw {ceilPairwise} + :app * {maxPairs} + random(0, {pairs} - 1)`, `\set key random({randomBase}, {randomTop})`}
)

var exchangeCeiling = ceilingSpec{
	Sets: append(slices.Clone(commonSets),
		`\set ticket {ticketBase} + :client_id * 100000000 + :n`,
		`\set token random({randomBase}, {randomTop})`),
	Steps: with(verifySteps, []step{
		// One statement: the ticket consumed, the token issued, the pairwise id recorded.
		{Match: "UPDATE sso_tickets t SET used_at", Bind: map[int]string{1: "ticket", 2: "app_id", 4: "token"}},
	}),
}

var userInfoCeiling = ceilingSpec{
	Sets: append(slices.Clone(commonSets), `\set token {ceilTokenBase} + :app`),
	Steps: with(verifySteps, []step{
		// The token and the citizen it grants, in one statement.
		{Match: "FROM access_tokens t JOIN citizens c", Bind: map[int]string{1: "token", 2: "app_id"}, Store: `\gset`,
			Cols: []string{"citizen_id", "token_environment", "token_level", "revoked", "expired",
				"mobile", "id_number", "name", "face_image_key", "real_name_level"}},
		// Reads of the ID number are audited: applications of levels identity and real_name
		// (application index mod 3 ≠ 0, see levels).
		{Match: "INSERT INTO audit_log", Bind: map[int]string{1: "vendor_id", 5: "citizen_id"}, If: ":app % 3 != 0", Optional: true},
	}),
}

var messageCeiling = ceilingSpec{
	Sets: slices.Concat(commonSets, capSets),
	Steps: with(verifySteps, []step{admitStep, citizenOfStep,
		{Match: "INSERT INTO citizen_messages", Bind: map[int]string{1: "app_id", 2: "citizen_id", 3: "key"}},
	}),
}

var todoCeiling = ceilingSpec{
	Sets: slices.Concat(commonSets, capSets),
	Steps: with(verifySteps, []step{admitStep, citizenOfStep,
		{Match: "request_hash FROM todos", Bind: map[int]string{1: "app_id", 2: "key"}},
		{Match: "INSERT INTO todos", Bind: map[int]string{1: "app_id", 2: "citizen_id", 3: "key"}},
	}),
}

var smsCeiling = ceilingSpec{
	Sets: slices.Concat(commonSets, capSets, []string{`\set lock1 random({randomBase}, {randomTop})`,
		`\set lock2 random({randomBase}, {randomTop})`, `\set to_index random({randomBase}, {randomTop})`}),
	Steps: with(verifySteps, []step{admitStep,
		{Match: "FROM sms_templates t", Bind: map[int]string{1: "app_id"}},
		citizenOfStep,
		{Match: "FROM citizens c WHERE c.id = $1", Bind: map[int]string{1: "citizen_id"}},
		{Match: "begin"},
		{Match: "pg_advisory_xact_lock", Bind: map[int]string{1: "lock1"}},
		{Match: "FROM sms_sends WHERE application_id = $1 AND idempotency_key", Bind: map[int]string{1: "app_id", 2: "key"}},
		{Match: "pg_advisory_xact_lock", Bind: map[int]string{1: "lock2"}},
		{Match: "FROM sms_sends WHERE application_id = $1 AND template_code", Bind: map[int]string{1: "app_id", 3: "to_index"}},
		// The development provider records the message on another connection of the pool,
		// outside the transaction; the script, one connection per client, runs it inside.
		{Match: "INSERT INTO dev_sms", Bind: map[int]string{1: "to_index"}},
		{Match: "INSERT INTO sms_sends", Bind: map[int]string{1: "app_id", 2: "key", 5: "to_index", 7: "citizen_id"}},
		{Match: "commit"},
	}),
}

// ---- tracing ---------------------------------------------------------------------------

// traced is one statement a function ran, with its parameters (nil for NULL).
type traced struct {
	SQL    string
	Params []*string
}

func (t traced) matches(s step) bool {
	if s.Match == "begin" || s.Match == "commit" {
		return strings.EqualFold(strings.TrimSpace(t.SQL), s.Match)
	}
	return strings.Contains(t.SQL, s.Match)
}

// readTrace returns the statements PostgreSQL logged for application name app, in order,
// from the server's JSON logs under logDir.
func readTrace(logDir, app string) ([]traced, error) {
	files, err := filepath.Glob(filepath.Join(logDir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []traced
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var line struct {
				App     string `json:"application_name"`
				Message string `json:"message"`
				Detail  string `json:"detail"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.App != app {
				continue
			}
			var sql string
			switch {
			case strings.HasPrefix(line.Message, "execute "):
				_, sql, _ = strings.Cut(line.Message, ": ")
			case strings.HasPrefix(line.Message, "statement: "):
				sql = strings.TrimPrefix(line.Message, "statement: ")
			default:
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(sql), "--") || strings.TrimSpace(sql) == ";" {
				continue // the pool's pings
			}
			params, err := parseParams(line.Detail)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out = append(out, traced{SQL: sql, Params: params})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseParams reads PostgreSQL's "parameters: $1 = '…', $2 = NULL" detail.
func parseParams(detail string) ([]*string, error) {
	rest, ok := strings.CutPrefix(detail, "parameters: ")
	if !ok {
		return nil, nil
	}
	var out []*string
	for n := 1; rest != ""; n++ {
		head := fmt.Sprintf("$%d = ", n)
		if !strings.HasPrefix(rest, head) {
			return nil, fmt.Errorf("unexpected parameter list at %q", truncate(rest, 40))
		}
		rest = rest[len(head):]
		switch {
		case strings.HasPrefix(rest, "NULL"):
			out = append(out, nil)
			rest = rest[4:]
		case strings.HasPrefix(rest, "'"):
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '\'' {
					if i+1 < len(rest) && rest[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, errors.New("unterminated parameter value")
			}
			v := b.String()
			out = append(out, &v)
			rest = rest[i+1:]
		default:
			return nil, fmt.Errorf("unexpected parameter value at %q", truncate(rest, 40))
		}
		rest = strings.TrimPrefix(rest, ", ")
	}
	return out, nil
}

// ---- the script ------------------------------------------------------------------------

// script is a pgbench script built from a trace, with the values (-D) it needs.
type script struct {
	Text       string
	Defines    map[string]string
	Statements float64 // per transaction, counting conditional ones by their frequency
}

var paramRef = regexp.MustCompile(`\$(\d+)`)

// buildScript checks the trace against the spec, request by request, and writes the
// script from the first matching occurrence of each step.
func buildScript(spec ceilingSpec, trace []traced, vars map[string]string) (script, []int, error) {
	first := spec.Steps[0]
	var requests [][]traced
	for _, t := range trace {
		if t.matches(first) {
			requests = append(requests, nil)
		}
		if len(requests) > 0 {
			requests[len(requests)-1] = append(requests[len(requests)-1], t)
		}
	}
	if len(requests) == 0 {
		return script{}, nil, fmt.Errorf("the trace holds no request (no statement containing %q)", first.Match)
	}
	counts := make([]int, len(requests))
	seen := make([]*traced, len(spec.Steps))
	for r, stmts := range requests {
		counts[r] = len(stmts)
		i := 0
		for k, s := range spec.Steps {
			j := i
			for j < len(stmts) && !stmts[j].matches(s) {
				j++
			}
			if j == len(stmts) {
				if s.Optional {
					continue
				}
				return script{}, nil, fmt.Errorf("request %d of the trace has no statement %q after the previous step: the function's SQL changed; update the ceiling spec in infra/bench/ceiling.go", r+1, s.Match)
			}
			if j > i {
				return script{}, nil, fmt.Errorf("request %d of the trace runs a statement no ceiling step models, before %q:\n%s\nupdate the ceiling spec in infra/bench/ceiling.go", r+1, s.Match, truncate(stmts[i].SQL, 400))
			}
			if seen[k] == nil {
				seen[k] = &stmts[j]
			}
			i = j + 1
		}
		if i < len(stmts) {
			return script{}, nil, fmt.Errorf("request %d of the trace runs a statement no ceiling step models, at its end:\n%s\nupdate the ceiling spec in infra/bench/ceiling.go", r+1, truncate(stmts[i].SQL, 400))
		}
	}
	var b strings.Builder
	defines := map[string]string{"n": "0"}
	repl := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		repl = append(repl, "{"+k+"}", v)
	}
	fill := strings.NewReplacer(repl...)
	for _, line := range spec.Sets {
		b.WriteString(fill.Replace(line) + "\n")
	}
	var perTx float64
	for k, s := range spec.Steps {
		t := seen[k]
		if t == nil {
			if !s.Optional || !strings.HasPrefix(s.If, "random(") {
				return script{}, nil, fmt.Errorf("the trace never ran %q; the fixture should reach it", s.Match)
			}
			continue // a rare statement (1 in 1000 requests) that a short trace missed
		}
		for n := range s.Bind {
			if n > len(t.Params) {
				return script{}, nil, fmt.Errorf("step %q binds $%d, but the statement has %d parameters: the function's SQL changed", s.Match, n, len(t.Params))
			}
		}
		sql := paramRef.ReplaceAllStringFunc(t.SQL, func(ref string) string {
			n, _ := strconv.Atoi(ref[1:])
			if v, ok := s.Bind[n]; ok {
				return ":" + v
			}
			if n > len(t.Params) {
				return ref
			}
			if t.Params[n-1] == nil {
				return "NULL"
			}
			name := fmt.Sprintf("p%d_%d", k, n)
			defines[name] = *t.Params[n-1]
			return ":" + name
		})
		if len(s.Cols) > 0 {
			sql = "SELECT * FROM (" + sql + ") AS q(" + strings.Join(s.Cols, ", ") + ")"
		}
		weight := 1.0
		if s.If != "" {
			b.WriteString(`\if ` + s.If + "\n")
			weight = ifWeight(s.If)
		}
		perTx += weight
		if s.Store != "" {
			b.WriteString(sql + " " + s.Store + "\n")
		} else {
			b.WriteString(sql + ";\n")
		}
		if s.If != "" {
			b.WriteString(`\endif` + "\n")
		}
	}
	return script{Text: b.String(), Defines: defines, Statements: perTx}, counts, nil
}

// ifWeight is how often a step's condition holds.
func ifWeight(cond string) float64 {
	switch cond {
	case "random(1, 1000) = 1":
		return 0.001
	case ":app % 3 != 0":
		return 2.0 / 3
	}
	return 1
}

// ---- pgbench --------------------------------------------------------------------------

// Ceiling is one pgbench run.
type Ceiling struct {
	Clients   int             `json:"clients"`
	TPS       float64         `json:"tps"`
	Processed int             `json:"transactions"`
	Failed    int             `json:"failed"`
	P50ms     float64         `json:"p50_ms"`
	P99ms     float64         `json:"p99_ms"`
	Aborted   bool            `json:"aborted,omitempty"`
	Message   string          `json:"message,omitempty"`
	CPU       *CPU            `json:"cpu,omitempty"` // per transaction: pgbench as the client
	ExecUs    float64         `json:"db_exec_us_per_transaction,omitempty"`
	Statement []StatementCost `json:"statements,omitempty"`
	Disturbed bool            `json:"disturbed,omitempty"`
}

// pgbench runs a script for d with c clients against the database at url.
func pgbench(ctx context.Context, bin, dir, url string, s script, c int, d time.Duration, meter cpuMeter) (Ceiling, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Ceiling{}, err
	}
	file := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(file, []byte(s.Text), 0o644); err != nil {
		return Ceiling{}, err
	}
	logPrefix := filepath.Join(dir, fmt.Sprintf("tx-c%d", c))
	old, _ := filepath.Glob(logPrefix + ".*")
	for _, f := range old {
		_ = os.Remove(f)
	}
	threads := min(c, runtime.NumCPU())
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(c), "-j", strconv.Itoa(threads), "-T", strconv.Itoa(int(d.Seconds())),
		"-l", "--log-prefix", logPrefix, "-f", file}
	keys := make([]string, 0, len(s.Defines))
	for k := range s.Defines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-D", k+"="+s.Defines[k])
	}
	args = append(args, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	before := meter.snapshot(0)
	runErr := cmd.Run()
	time.Sleep(100 * time.Millisecond) // the server processes of pgbench's connections exit and are reaped
	after := meter.snapshot(0)
	after.client = before.client // this process idles meanwhile; pgbench is the client
	out := stdout.String() + stderr.String()
	res := Ceiling{Clients: c}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "tps = "):
			res.TPS, _ = strconv.ParseFloat(strings.Fields(line)[2], 64)
		case strings.HasPrefix(line, "number of transactions actually processed: "):
			v := strings.TrimPrefix(line, "number of transactions actually processed: ")
			v, _, _ = strings.Cut(v, "/")
			res.Processed, _ = strconv.Atoi(strings.TrimSpace(v))
		case strings.HasPrefix(line, "number of failed transactions: "):
			v := strings.Fields(strings.TrimPrefix(line, "number of failed transactions: "))
			if len(v) > 0 {
				res.Failed, _ = strconv.Atoi(v[0])
			}
		}
	}
	if strings.Contains(out, "aborted") {
		res.Aborted = true
		for _, line := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(line, "error") || strings.Contains(line, "aborted") {
				res.Message = truncate(line, 300)
				break
			}
		}
	}
	if runErr != nil && res.Processed == 0 {
		return res, fmt.Errorf("pgbench: %v\n%s", runErr, truncate(out, 2000))
	}
	lat, err := readTxLog(logPrefix)
	if err != nil {
		return res, err
	}
	res.P50ms, res.P99ms = pct(lat, 0.50), pct(lat, 0.99)
	if cmd.ProcessState != nil && res.Processed > 0 {
		after.at = before.at.Add(d) // busy over the run's time
		cpu := perRequest(before, after, res.Processed, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), runtime.NumCPU())
		res.CPU = &cpu
	}
	return res, nil
}

// readTxLog reads pgbench's per-transaction logs (-l): the third field is the latency in µs.
func readTxLog(prefix string) ([]time.Duration, error) {
	files, _ := filepath.Glob(prefix + ".*")
	var lat []time.Duration
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 {
				continue
			}
			us, err := strconv.ParseInt(f[2], 10, 64)
			if err == nil {
				lat = append(lat, time.Duration(us)*time.Microsecond)
			}
		}
		_ = os.Remove(name)
	}
	slices.Sort(lat)
	return lat, nil
}
