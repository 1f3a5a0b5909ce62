package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// The Go micro-benchmarks of the shared packages on the hot paths.
var microPackages = []string{"./shared/signature", "./shared/vendorauth", "./shared/auth", "./shared/seal"}

// microBenchmarks runs them (`go test -bench . -benchmem`) and reads the results.
func microBenchmarks(ctx context.Context, root string) ([]Micro, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem"}, microPackages...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %v\n%s", err, out)
	}
	return parseBench(string(out)), nil
}

// parseBench reads `go test -bench -benchmem` output.
func parseBench(out string) []Micro {
	var ms []Micro
	pkg := ""
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndex(p, "/")+1:]
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		m := Micro{Package: pkg, Name: name}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				m.NsOp = v
			case "B/op":
				m.BytesOp = v
			case "allocs/op":
				m.AllocsOp = v
			}
		}
		ms = append(ms, m)
	}
	return ms
}
