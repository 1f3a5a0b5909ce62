package bench

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// chart draws throughput against concurrency, a panel per operation: direct to the
// function, through the gateway, and the pgbench ceiling; the last panel is the bare
// net/http ceiling. Hand-written SVG, no dependencies.
func chart(r *Report) []byte {
	type series struct {
		name, color, dash string
		pts               [][2]float64 // concurrency, req/s
	}
	type panel struct {
		title  string
		series []series
	}
	var panels []panel
	for _, o := range r.Ops {
		var d, g, c series
		d = series{name: "direct", color: "#1f77b4"}
		g = series{name: "via gateway", color: "#ff7f0e"}
		c = series{name: "pgbench ceiling", color: "#555", dash: "5,4"}
		for _, s := range o.Direct {
			d.pts = append(d.pts, [2]float64{float64(s.Concurrency), s.RPS})
		}
		for _, s := range o.Gateway {
			g.pts = append(g.pts, [2]float64{float64(s.Concurrency), s.RPS})
		}
		for _, s := range o.Ceiling {
			c.pts = append(c.pts, [2]float64{float64(s.Clients), s.TPS})
		}
		panels = append(panels, panel{title: fmt.Sprintf("%s (best %.0f %% of pgbench)", o.Name, 100*o.Ratio()), series: []series{c, d, g}})
	}
	if len(r.HTTPCeiling) > 0 {
		h := series{name: "bare net/http", color: "#2ca02c"}
		for _, s := range r.HTTPCeiling {
			h.pts = append(h.pts, [2]float64{float64(s.Concurrency), s.RPS})
		}
		panels = append(panels, panel{title: "HTTP ceiling (minimal Go server)", series: []series{h}})
	}
	const (
		cols, pw, ph = 3, 320, 240
		ml, mr, mt   = 58, 14, 34
		mb           = 40
	)
	rows := (len(panels) + cols - 1) / cols
	width, height := cols*pw, rows*ph+60
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">Throughput vs concurrency — %s, %d CPU, %s</text>`+"\n",
		html.EscapeString(r.Date.Format("2006-01-02 15:04")), r.Machine.CPUs, html.EscapeString(r.Machine.PostgreSQL))
	// Legend.
	lx := 10
	for _, l := range []struct{ name, color, dash string }{{"direct to the function", "#1f77b4", ""}, {"through the gateway", "#ff7f0e", ""},
		{"pgbench, same SQL", "#555", "5,4"}, {"bare net/http", "#2ca02c", ""}} {
		fmt.Fprintf(&b, `<line x1="%d" y1="38" x2="%d" y2="38" stroke="%s" stroke-width="2" stroke-dasharray="%s"/><text x="%d" y="42">%s</text>`+"\n",
			lx, lx+24, l.color, l.dash, lx+28, l.name)
		lx += 40 + 7*len(l.name)
	}
	for i, p := range panels {
		ox, oy := (i%cols)*pw, 60+(i/cols)*ph
		x0, y0, x1, y1 := ox+ml, oy+mt, ox+pw-mr, oy+ph-mb
		var xs []float64
		ymax := 0.0
		for _, s := range p.series {
			for _, pt := range s.pts {
				ymax = math.Max(ymax, pt[1])
				if !containsF(xs, pt[0]) {
					xs = append(xs, pt[0])
				}
			}
		}
		if len(xs) == 0 {
			continue
		}
		ymax = niceMax(ymax)
		lmin, lmax := math.Log(minF(xs)), math.Log(maxF(xs))
		px := func(c float64) float64 {
			if lmax == lmin {
				return float64(x0+x1) / 2
			}
			return float64(x0) + (math.Log(c)-lmin)/(lmax-lmin)*float64(x1-x0)
		}
		py := func(v float64) float64 { return float64(y1) - v/ymax*float64(y1-y0) }
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", ox+10, oy+18, html.EscapeString(p.title))
		for k := 0; k <= 4; k++ {
			v := ymax * float64(k) / 4
			y := py(v)
			fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
				x0, y, x1, y, x0-4, y+4, short(v))
		}
		for _, c := range xs {
			x := px(c)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/><text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n",
				x, y1, x, y1+4, x, y1+16, c)
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n",
			x0, y1, x1, y1, x0, y0, x0, y1)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">concurrency</text>`+"\n", (x0+x1)/2, y1+32)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">req/s</text>`+"\n", ox+14, (y0+y1)/2, ox+14, (y0+y1)/2)
		for _, s := range p.series {
			if len(s.pts) == 0 {
				continue
			}
			var path bytes.Buffer
			for k, pt := range s.pts {
				cmd := "L"
				if k == 0 {
					cmd = "M"
				}
				fmt.Fprintf(&path, "%s%.1f,%.1f ", cmd, px(pt[0]), py(pt[1]))
			}
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", path.String(), s.color, s.dash)
			for _, pt := range s.pts {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s c=%g: %.0f req/s</title></circle>`+"\n",
					px(pt[0]), py(pt[1]), s.color, html.EscapeString(s.name), pt[0], pt[1])
			}
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func containsF(xs []float64, x float64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func minF(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func maxF(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

// niceMax rounds up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%gk", math.Round(v/100)/10)
	}
	return fmt.Sprintf("%g", v)
}
