package checks

import (
	"fmt"
	"strings"
	"testing"
)

// The database connection budget: Σ over every workload that reads DATABASE_URL of
// (max-scale × DB_POOL_MAX), plus each Job's (parallelism × DB_POOL_MAX), must fit the
// budget annotated on the namespace (infra/knative/namespace.yaml explains the number).
// Checked for Knative and for OpenFaaS (com.openfaas.scale.max × DB_POOL_MAX), which share
// the database and the migrate Job.
func TestConnectionBudget(t *testing.T) {
	f := load(t)
	var ns string
	var budget int
	for name, n := range f.knative.Namespaces {
		b, err := PositiveInt("annotation "+BudgetAnnotation, n.Annotations[BudgetAnnotation])
		if err != nil {
			t.Fatalf("Namespace %s: %v", name, err)
		}
		ns, budget = name, b
	}
	if ns == "" {
		t.Fatal("the kustomization renders no Namespace, so no connection budget")
	}

	var jobs []line
	jobTotal := 0
	for _, name := range sortedKeys(f.knative.Jobs) {
		j := f.knative.Jobs[name]
		for _, c := range j.Spec.Template.Spec.Containers {
			env, _ := ContainerEnv(c, f.knative.ConfigMaps)
			if _, usesDB := env["DATABASE_URL"]; !usesDB {
				continue
			}
			pool, err := PositiveInt("DB_POOL_MAX", env["DB_POOL_MAX"].Value)
			if err != nil {
				t.Errorf("Job %s: %v (set it explicitly)", name, err)
				continue
			}
			par := 1
			if j.Spec.Parallelism != nil {
				par = int(*j.Spec.Parallelism)
			}
			jobs = append(jobs, line{"Job " + name, par, pool})
			jobTotal += par * pool
		}
	}

	var kn []line
	knTotal := jobTotal
	for _, name := range sortedKeys(f.knative.Services) {
		s := f.knative.Services[name]
		for _, c := range s.Spec.Template.Spec.Containers {
			env, _ := ContainerEnv(c, f.knative.ConfigMaps)
			if _, usesDB := env["DATABASE_URL"]; !usesDB {
				continue
			}
			scale, err := PositiveInt(MaxScaleKey, s.Spec.Template.Annotations[MaxScaleKey])
			if err != nil {
				t.Errorf("Service %s uses the database: %v (an unbounded Service has no place in a connection budget)", name, err)
				continue
			}
			pool, err := PositiveInt("DB_POOL_MAX", env["DB_POOL_MAX"].Value)
			if err != nil {
				t.Errorf("Service %s: %v (set it explicitly)", name, err)
				continue
			}
			kn = append(kn, line{"Service " + name, scale, pool})
			knTotal += scale * pool
		}
	}

	var of []line
	ofTotal := jobTotal
	for _, name := range sortedKeys(f.stack.Functions) {
		fn := f.stack.Functions[name]
		usesDB := false
		for _, s := range fn.Secrets {
			usesDB = usesDB || s == "database-url"
		}
		if !usesDB {
			continue
		}
		scale, err := PositiveInt("com.openfaas.scale.max", fn.Labels["com.openfaas.scale.max"])
		if err != nil {
			t.Errorf("stack.yml %s uses the database: %v", name, err)
			continue
		}
		pool, err := PositiveInt("DB_POOL_MAX", fn.Environment["DB_POOL_MAX"])
		if err != nil {
			t.Errorf("stack.yml %s: %v (set it explicitly)", name, err)
			continue
		}
		of = append(of, line{name, scale, pool})
		ofTotal += scale * pool
	}

	t.Logf("database connection budget (Namespace %s): %d\nKnative:\n%s\nOpenFaaS:\n%s",
		ns, budget, table(append(kn, jobs...), knTotal), table(append(of, jobs...), ofTotal))
	for platform, total := range map[string]int{"Knative": knTotal, "OpenFaaS": ofTotal} {
		if total > budget {
			t.Errorf("%s: at full scale the workloads hold %d database connections, over the budget of %d (annotation %s on Namespace %s): lower max-scale or DB_POOL_MAX somewhere, or raise the budget with the database's max_connections\n%s",
				platform, total, budget, BudgetAnnotation, ns, table(map[string][]line{"Knative": append(kn, jobs...), "OpenFaaS": append(of, jobs...)}[platform], total))
		}
	}
}

type line struct {
	what        string
	scale, pool int
}

func table(lines []line, total int) string {
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "  %-28s %3d × %d = %3d\n", l.what, l.scale, l.pool, l.scale*l.pool)
	}
	fmt.Fprintf(&b, "  %-28s %15d", "total", total)
	return b.String()
}
