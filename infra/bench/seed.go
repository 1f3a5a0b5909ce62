package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sso"
)

// Numbers that pgbench can compute. pgbench has integer variables only, and passes a
// variable as the text of its value, so the fixture gives the values a ceiling script must
// vary per transaction a decimal form: app codes are codeBase+i (a valid lower-hex appCode),
// and the ceiling's own tickets, tokens and pairwise ids are bases plus small numbers, their
// hashes the decimal text's bytes. Random per-transaction values (nonces, token hashes,
// idempotency keys) are drawn above randomBase, so they never meet a fixture's number.
const (
	codeBase        int64 = 1_000_000_000_000_000_000 // + application index: appCode
	ceilUITicket    int64 = 1_500_000_000_000_000_000 // + application index: tickets of the user-info ceiling's tokens
	ceilTicketBase  int64 = 2_000_000_000_000_000_000 // + run·1e11 + client·1e8 + n: the exchange ceiling's tickets
	ceilTokenBase   int64 = 3_000_000_000_000_000_000 // + application index: the user-info ceiling's tokens
	ceilPairwise    int64 = 4_000_000_000_000_000_000 // + application index·1000 + j: the capability ceilings' citizens
	randomBase      int64 = 5_000_000_000_000_000_000
	randomTop       int64 = 9_000_000_000_000_000_000
	spread                = 919 // worker w's n-th request goes to application (w·919 + n) mod apps
	maxPairsPerApps       = 1000
)

// Levels of user info, by application index mod 3; so are the citizens' real-name levels.
var levels = []string{"basic", "identity", "real_name"}

// benchApp is an approved application with a live service, its two secrets, grants of all
// three capabilities with three SMS templates, and citizens who signed in to it.
type benchApp struct {
	Idx        int
	ID         string
	Code       string
	VendorID   string
	Level      string
	ServiceID  string
	TestSecret string
	ProdSecret string
	Pairwise   []string // the application's ids of its signed-in citizens
	Citizens   []string // the citizens behind them
}

// fixture is the seeded data the load is made from.
type fixture struct {
	pool      *pgxpool.Pool
	sealer    *seal.Sealer
	apps      []*benchApp
	citizens  []string
	templates []string
	pairs     int // signed-in citizens per application
}

// templates every application has approved; their parameters are service and status.
var smsTemplates = []string{"SMS_100000001", "SMS_100000002", "SMS_100000003"}

// seed fills the directory and the platform's applications. Everything that is sealed or
// hashed in production is sealed or hashed here, with the shared packages' own functions.
func seed(ctx context.Context, pool *pgxpool.Pool, sealer *seal.Sealer, nCitizens, nApps, pairs int, say func(string, ...any)) (*fixture, error) {
	if pairs > maxPairsPerApps {
		pairs = maxPairsPerApps
	}
	if pairs > nCitizens {
		pairs = nCitizens
	}
	f := &fixture{pool: pool, sealer: sealer, templates: smsTemplates, pairs: pairs}
	start := time.Now()
	var adminID string
	if err := pool.QueryRow(ctx, `SELECT id FROM accounts WHERE role = 'admin' ORDER BY created_at LIMIT 1`).Scan(&adminID); err != nil {
		return nil, fmt.Errorf("the stack's administrator: %w", err)
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_apps (idx int PRIMARY KEY, id uuid NOT NULL, service_id uuid, level text NOT NULL);
		CREATE TABLE bench_citizens (idx int PRIMARY KEY, id uuid NOT NULL)`); err != nil {
		return nil, err
	}
	if err := f.seedCitizens(ctx, nCitizens); err != nil {
		return nil, fmt.Errorf("citizens: %w", err)
	}
	say("seeded %d citizens (sealed, indexed) in %v", nCitizens, time.Since(start).Round(time.Millisecond))
	t := time.Now()
	if err := f.seedApps(ctx, nApps, adminID); err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	say("seeded %d approved applications (two sealed secrets each), services, grants, templates in %v", nApps, time.Since(t).Round(time.Millisecond))
	t = time.Now()
	if err := f.seedPairwise(ctx); err != nil {
		return nil, fmt.Errorf("pairwise ids: %w", err)
	}
	say("seeded %d pairwise ids in %v", 2*nApps*pairs, time.Since(t).Round(time.Millisecond))
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, err
	}
	say("seeding took %v", time.Since(start).Round(time.Millisecond))
	return f, nil
}

func (f *fixture) seedCitizens(ctx context.Context, n int) error {
	r := rand.New(rand.NewPCG(1, 2))
	const chunk = 20000
	for from := 0; from < n; from += chunk {
		var cs []citizens.Citizen
		for i := from; i < min(n, from+chunk); i++ {
			c := citizens.Citizen{Mobile: fmt.Sprintf("139%08d", i), Name: chineseName(r), RealNameLevel: levels[i%3]}
			if c.RealNameLevel != "basic" {
				c.IDNumber = idNumber(i)
			}
			if c.RealNameLevel == "real_name" {
				c.FaceImageKey = fmt.Sprintf("citizens/faces/%016x.png", r.Uint64())
			}
			cs = append(cs, c)
		}
		ids, err := citizens.CreateMany(ctx, f.pool, f.sealer, cs)
		if err != nil {
			return err
		}
		f.citizens = append(f.citizens, ids...)
	}
	rows := make([][]any, len(f.citizens))
	for i, id := range f.citizens {
		rows[i] = []any{i, id}
	}
	_, err := f.pool.CopyFrom(ctx, pgx.Identifier{"bench_citizens"}, []string{"idx", "id"}, pgx.CopyFromRows(rows))
	return err
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
var given = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉晶建国文斌宇浩凯丹婷雪琳慧颖")

func chineseName(r *rand.Rand) string {
	name := []rune{surnames[r.IntN(len(surnames))], given[r.IntN(len(given))]}
	if r.IntN(2) == 0 {
		name = append(name, given[r.IntN(len(given))])
	}
	return string(name)
}

// idNumber is a well-formed, unique mainland resident ID number (GB 11643: region, birth
// date, sequence, ISO 7064 MOD 11-2 check character), in a Shanxi region code.
func idNumber(i int) string {
	birth := time.Date(1955, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (i/1000)*97%20000)
	body := fmt.Sprintf("140105%s%03d", birth.Format("20060102"), i%1000)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for k, c := range body {
		sum += int(c-'0') * weights[k]
	}
	return body + string("10X98765432"[sum%11])
}

func (f *fixture) seedApps(ctx context.Context, n int, adminID string) error {
	nVendors := max(1, n/10)
	vendors := make([]string, nVendors)
	if err := parallel(ctx, nVendors, 2, func(i int) error {
		a, err := accounts.Create(ctx, f.pool, f.sealer, accounts.New{Role: "vendor", Login: fmt.Sprintf("bench-vendor-%04d", i),
			Password: auth.NewPassword(), CompanyName: fmt.Sprintf("晋来办测试厂商 %04d", i), ContactName: "王芳", ContactMobile: "13912345678"})
		vendors[i] = a.ID
		return err
	}); err != nil {
		return err
	}
	f.apps = make([]*benchApp, n)
	yes := true
	if err := parallel(ctx, n, 4, func(i int) error {
		a := &benchApp{Idx: i, VendorID: vendors[i%nVendors], Level: levels[i%3], Code: fmt.Sprint(codeBase + int64(i))}
		app, err := apps.Create(ctx, f.pool, f.sealer, a.VendorID, apps.Declaration{Name: fmt.Sprintf("公积金业务系统 %04d", i),
			ContactName: "李娜", ContactMobile: "13987654321", NeedsUserInfo: &yes, UserInfoLevel: a.Level,
			Description: "住房公积金查询、提取与贷款进度，服务太原市缴存职工。"})
		if err != nil {
			return err
		}
		a.ID = app.ID
		if _, err := apps.Submit(ctx, f.pool, f.sealer, a.VendorID, a.ID); err != nil {
			return err
		}
		err = db.Tx(ctx, f.pool, func(tx pgx.Tx) error {
			if _, a.TestSecret, err = apps.Approve(ctx, tx, f.sealer, a.ID, adminID); err != nil {
				return err
			}
			// The appCode in the decimal form a pgbench script can compute (see codeBase).
			_, err := tx.Exec(ctx, `UPDATE applications SET app_code = $2 WHERE id = $1`, a.ID, a.Code)
			return err
		})
		if err != nil {
			return err
		}
		prod, err := apps.IssueSecret(ctx, f.pool, f.sealer, a.ID, apps.EnvProduction)
		a.ProdSecret = prod.Secret
		f.apps[i] = a
		return err
	}); err != nil {
		return err
	}
	rows := make([][]any, n)
	for i, a := range f.apps {
		rows[i] = []any{i, a.ID, a.Level}
	}
	if _, err := f.pool.CopyFrom(ctx, pgx.Identifier{"bench_apps"}, []string{"idx", "id", "level"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	// One live service per application, grants of every capability, three SMS templates.
	_, err := f.pool.Exec(ctx, `
		INSERT INTO services (application_id, name, channels, service_type, module_callback_code, module_code, test_url, production_url,
			description, tags, status, applied_at, live_requested_at, live_at)
		SELECT id, '公积金提取 ' || idx, ARRAY['app', 'wechat'], 'transaction', 'gjj-' || idx, 'M' || (100000 + idx),
			'https://test.gjj' || idx || '.example.cn/sso', 'https://gjj' || idx || '.example.cn/sso',
			'提取住房公积金：购房、租房、退休、离职等情形在线办理。', ARRAY['housing-fund'], 'live', now(), now(), now()
		FROM bench_apps;
		UPDATE bench_apps b SET service_id = s.id FROM services s WHERE s.application_id = b.id;
		INSERT INTO capability_grants (application_id, capability, status, sms_sign_name, requested_at, decided_at)
		SELECT b.id, c, 'granted', CASE WHEN c = 'sms' THEN '晋来办' END, now(), now()
		FROM bench_apps b CROSS JOIN unnest(ARRAY['sms', 'message', 'todo']) c`)
	if err != nil {
		return err
	}
	_, err = f.pool.Exec(ctx, `INSERT INTO sms_templates (application_id, code, name, content, params)
		SELECT b.id, t, '办理进度通知', '您办理的${service}状态为${status}，详情请打开晋来办查看。', ARRAY['service', 'status']
		FROM bench_apps b CROSS JOIN unnest($1::text[]) t`, smsTemplates)
	if err != nil {
		return err
	}
	for _, a := range f.apps {
		if err := f.pool.QueryRow(ctx, `SELECT service_id FROM bench_apps WHERE idx = $1`, a.Idx).Scan(&a.ServiceID); err != nil {
			return err
		}
	}
	return nil
}

// seedPairwise signs `pairs` citizens in to each application: their pairwise ids as the
// exchange records them, and the same citizens under decimal ids for the ceiling scripts.
func (f *fixture) seedPairwise(ctx context.Context) error {
	var rows [][]any
	for _, a := range f.apps {
		for j := range f.pairs {
			c := f.citizens[(a.Idx*f.pairs+j)%len(f.citizens)]
			pw := sso.PairwiseID(f.sealer, a.ID, c)
			a.Pairwise, a.Citizens = append(a.Pairwise, pw), append(a.Citizens, c)
			rows = append(rows, []any{a.ID, pw, c}, []any{a.ID, fmt.Sprint(ceilPairwise + int64(a.Idx*maxPairsPerApps+j)), c})
		}
	}
	_, err := f.pool.CopyFrom(ctx, pgx.Identifier{"pairwise_ids"}, []string{"application_id", "pairwise_id", "citizen_id"}, pgx.CopyFromRows(rows))
	return err
}

// ticket is one issued SSO ticket, as the super-app's backend got it.
type ticket struct {
	Ticket string
	App    *benchApp
}

// issueTickets stores fresh production tickets, as sso.IssueTicket stores one (hashed, for
// the application's live service, living sso.MaxTicketTTL), with COPY. appOf chooses the
// application of the k-th ticket; the citizens are random.
func (f *fixture) issueTickets(ctx context.Context, n int, appOf func(k int) *benchApp) ([]ticket, error) {
	out := make([]ticket, n)
	rows := make([][]any, n)
	expires := time.Now().Add(sso.MaxTicketTTL).UTC().Truncate(time.Second)
	for k := range n {
		a := appOf(k)
		// A production ticket: no "test_" prefix (see sso.IssueTicket).
		t := auth.NewToken("tk_")
		out[k] = ticket{Ticket: t, App: a}
		c := f.citizens[rand.IntN(len(f.citizens))]
		rows[k] = []any{auth.HashToken(t), sso.EnvProduction, c, a.ServiceID, a.ID, expires, sso.PairwiseID(f.sealer, a.ID, c)}
	}
	_, err := f.pool.CopyFrom(ctx, pgx.Identifier{"sso_tickets"}, []string{"ticket_hash", "environment", "citizen_id", "service_id", "application_id", "expires_at", "pairwise_id"},
		pgx.CopyFromRows(rows))
	return out, err
}

// seedCeilingTokens stores, per application, a used ticket and a valid access token under
// decimal hashes, for the user-info ceiling; the citizen is the one of the function's token.
func (f *fixture) seedCeilingTokens(ctx context.Context, citizenOf func(a *benchApp) string) error {
	var tickets, tokens [][]any
	for _, a := range f.apps {
		th := []byte(fmt.Sprint(ceilUITicket + int64(a.Idx)))
		c := citizenOf(a)
		tickets = append(tickets, []any{th, sso.EnvProduction, c, a.ServiceID, a.ID, time.Now().Add(time.Minute), time.Now()})
		tokens = append(tokens, []any{[]byte(fmt.Sprint(ceilTokenBase + int64(a.Idx))), th, sso.EnvProduction, a.ID, c, a.Level, time.Now().Add(24 * time.Hour)})
	}
	if _, err := f.pool.CopyFrom(ctx, pgx.Identifier{"sso_tickets"}, []string{"ticket_hash", "environment", "citizen_id", "service_id", "application_id", "expires_at", "used_at"},
		pgx.CopyFromRows(tickets)); err != nil {
		return err
	}
	_, err := f.pool.CopyFrom(ctx, pgx.Identifier{"access_tokens"}, []string{"token_hash", "ticket_hash", "environment", "application_id", "citizen_id", "user_info_level", "expires_at"},
		pgx.CopyFromRows(tokens))
	return err
}

// issueCeilingTickets stores the exchange ceiling's tickets for one pgbench run: client c's
// n-th transaction (n from 1) exchanges ticket base + c·1e8 + n of application (c·919 + n)
// mod apps, as the script computes; each carries a pairwise id of its own, as a function's
// ticket for a citizen new to the application does.
func (f *fixture) issueCeilingTickets(ctx context.Context, base int64, clients, perClient int) error {
	_, err := f.pool.Exec(ctx, `INSERT INTO sso_tickets (ticket_hash, environment, citizen_id, service_id, application_id, expires_at, pairwise_id)
		SELECT convert_to(($1::bigint + c::bigint * 100000000 + n)::text, 'UTF8'), 'production', bc.id, a.service_id, a.id, now() + $6::interval,
			md5(($1::bigint + c::bigint * 100000000 + n)::text)
		FROM generate_series(0, $2 - 1) c CROSS JOIN generate_series(1, $3) n
		JOIN bench_apps a ON a.idx = (c * $4 + n) % $5
		JOIN bench_citizens bc ON bc.idx = (c * 7919 + n * 31) % $7`,
		base, clients, perClient, spread, len(f.apps), sso.MaxTicketTTL, len(f.citizens))
	return err
}

// parallel runs do(0..n-1) on `workers` goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, do func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  int
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || i >= n || ctx.Err() != nil
				mu.Unlock()
				if stop {
					return
				}
				if err := do(i); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("item %d: %w", i, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
