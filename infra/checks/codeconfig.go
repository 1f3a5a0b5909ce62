package checks

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Setting is one environment variable a program reads, as its code declares it: a field of
// a struct that the program passes to config.Load (directly or through fn.Runtime).
type Setting struct {
	Var      string // the variable, e.g. DATABASE_URL
	Default  string // envconfig's default:"…"
	Required bool   // envconfig's required:"true", or ",required" on the secret tag
	Secret   string // the OpenFaaS secret name from secret:"…", "" when not a secret
	Struct   string // the struct that declares it, e.g. github.com/…/shared/db.Config
}

// Program is what the code says about one function: whether it is a server (it runs on
// fn.Main) or a one-shot program, and the settings it reads.
type Program struct {
	Function
	Server   bool
	Settings map[string]Setting // by variable
	// Endpoints are the patterns the function's own package registers on a router
	// (fn.Router or http.ServeMux), e.g. "POST /api/v1/apps/{id}/submit". A pattern built at
	// run time is cut at its first non-constant part.
	Endpoints []string
}

// SettingNames lists the program's variables, sorted.
func (p *Program) SettingNames() []string {
	var out []string
	for v := range p.Settings {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Secrets lists the OpenFaaS secret names of the program's secret settings, sorted.
func (p *Program) Secrets() map[string]Setting {
	out := map[string]Setting{}
	for _, s := range p.Settings {
		if s.Secret != "" {
			out[s.Secret] = s
		}
	}
	return out
}

const (
	configLoad  = ModulePath + "/shared/config.Load"
	runtimeLoad = "(*" + ModulePath + "/shared/fn.Runtime).Load"
	fnMain      = ModulePath + "/shared/fn.Main"
)

// AnalyzePrograms reads the code of every function and of shared/ and works out, for each
// function, which settings structs its main reaches: it follows every reference from
// main.main to functions and methods of this repository (calls, and functions passed as
// values, like the setup given to fn.Main) and collects the structs whose address is passed
// to config.Load or (*fn.Runtime).Load on the way. So rt.DB() brings in db.Config,
// rt.Sealer() seal.Config, fn.Main the runtime's Settings, and so on, without a list here.
func AnalyzePrograms(root string, fns []Function) (map[string]*Program, error) {
	patterns := []string{ModulePath + "/shared/..."}
	var empty []string
	for _, f := range fns {
		patterns = append(patterns, f.ImportPath)
		if goFiles, _ := filepath.Glob(filepath.Join(f.Dir, "*.go")); len(goFiles) == 0 {
			empty = append(empty, "functions/"+f.Name)
		}
	}
	if len(empty) > 0 {
		return nil, fmt.Errorf("%s: a go.mod but no Go files yet, so nothing to check or deploy", strings.Join(empty, ", "))
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
			packages.NeedTypesInfo | packages.NeedImports,
		Dir: root,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var loadErrs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, e.Error())
		}
	})
	if len(loadErrs) > 0 {
		return nil, fmt.Errorf("loading the code: %s", strings.Join(loadErrs, "; "))
	}

	g := &refGraph{edges: map[string]map[string]bool{}, loads: map[string][]types.Type{}}
	endpoints := map[string][]string{}
	for _, p := range pkgs {
		endpoints[p.PkgPath] = findEndpoints(p)
		for _, file := range p.Syntax {
			for _, decl := range file.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				obj, ok := p.TypesInfo.Defs[fd.Name].(*types.Func)
				if !ok {
					continue
				}
				g.scan(obj.FullName(), fd.Body, p.TypesInfo)
			}
		}
	}

	if len(g.opaque) > 0 {
		sort.Strings(g.opaque)
		return nil, fmt.Errorf("cannot tell which settings struct %s loads: pass &settings to config.Load or rt.Load, or take its address in the same function", strings.Join(g.opaque, ", "))
	}
	out := map[string]*Program{}
	for _, f := range fns {
		reached := g.reach(f.ImportPath + ".main")
		if !reached[f.ImportPath+".main"] {
			return nil, fmt.Errorf("%s: no func main in package %s", f.Dir, f.ImportPath)
		}
		prog := &Program{Function: f, Server: reached[fnMain], Settings: map[string]Setting{}, Endpoints: endpoints[f.ImportPath]}
		for fn := range reached {
			for _, t := range g.loads[fn] {
				settings, err := settingsOf(t)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", f.Name, err)
				}
				for _, s := range settings {
					if old, dup := prog.Settings[s.Var]; dup && old != s {
						return nil, fmt.Errorf("%s: %s is declared twice, differently (%s and %s)", f.Name, s.Var, old.Struct, s.Struct)
					}
					prog.Settings[s.Var] = s
				}
			}
		}
		out[f.Name] = prog
	}
	return out, nil
}

// refGraph: which repository functions each function refers to, and which settings structs
// it loads.
type refGraph struct {
	edges  map[string]map[string]bool
	loads  map[string][]types.Type
	opaque []string // functions calling Load with something this analysis cannot follow
}

func inRepo(pkg *types.Package) bool {
	return pkg != nil && strings.HasPrefix(pkg.Path(), ModulePath+"/")
}

func (g *refGraph) scan(from string, body *ast.BlockStmt, info *types.Info) {
	if g.edges[from] == nil {
		g.edges[from] = map[string]bool{}
	}
	// A Load given something other than &settings (e.g. a loop over []any{&a, &b}) is
	// resolved by taking every &x of a settings struct in the same function.
	opaque := false
	var taken []types.Type
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			if fn, ok := info.Uses[n].(*types.Func); ok && inRepo(fn.Pkg()) {
				g.edges[from][fn.Origin().FullName()] = true
			}
		case *ast.UnaryExpr:
			if n.Op == token.AND && hasEnvconfigTags(info.TypeOf(n.X)) {
				taken = append(taken, info.TypeOf(n.X))
			}
		case *ast.CallExpr:
			callee := calleeOf(n, info)
			if callee == nil || len(n.Args) != 1 {
				return true
			}
			if name := callee.Origin().FullName(); name == configLoad || name == runtimeLoad {
				if ptr, ok := info.TypeOf(n.Args[0]).(*types.Pointer); ok {
					g.loads[from] = append(g.loads[from], ptr.Elem())
				} else {
					opaque = true
				}
			}
		}
		return true
	})
	if opaque && from != runtimeLoad && from != configLoad { // those two forward their argument
		g.loads[from] = append(g.loads[from], taken...)
		if len(taken) == 0 {
			g.opaque = append(g.opaque, from)
		}
	}
}

// hasEnvconfigTags reports whether t is a struct with a field tagged envconfig.
func hasEnvconfigTags(t types.Type) bool {
	if t == nil {
		return false
	}
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for i := 0; i < st.NumFields(); i++ {
		if _, ok := reflect.StructTag(st.Tag(i)).Lookup("envconfig"); ok {
			return true
		}
	}
	return false
}

func calleeOf(call *ast.CallExpr, info *types.Info) *types.Func {
	switch fun := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		fn, _ := info.Uses[fun].(*types.Func)
		return fn
	case *ast.SelectorExpr:
		fn, _ := info.Uses[fun.Sel].(*types.Func)
		return fn
	}
	return nil
}

func (g *refGraph) reach(start string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(fn string) {
		if seen[fn] {
			return
		}
		seen[fn] = true
		for next := range g.edges[fn] {
			visit(next)
		}
	}
	if _, ok := g.edges[start]; ok {
		visit(start)
	}
	return seen
}

// settingsOf lists the variables a settings struct declares, the way envconfig and
// shared/config read them: the envconfig tag names the variable (or the upper-cased field
// name), embedded structs are flattened, ignored:"true" fields are skipped.
func settingsOf(t types.Type) ([]Setting, error) {
	named, _ := t.(*types.Named)
	st, ok := t.Underlying().(*types.Struct)
	if !ok {
		return nil, fmt.Errorf("config.Load is given a %s, not a struct", t)
	}
	where := t.String()
	if named != nil {
		where = named.Obj().Pkg().Path() + "." + named.Obj().Name()
	}
	var out []Setting
	for i := 0; i < st.NumFields(); i++ {
		f := st.Field(i)
		tag := reflect.StructTag(st.Tag(i))
		if tag.Get("ignored") == "true" || !f.Exported() {
			continue
		}
		if _, isStruct := f.Type().Underlying().(*types.Struct); isStruct && f.Embedded() {
			inner, err := settingsOf(f.Type())
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		v := tag.Get("envconfig")
		if v == "" {
			v = strings.ToUpper(f.Name())
		}
		s := Setting{Var: v, Default: tag.Get("default"), Required: tag.Get("required") == "true", Struct: where}
		if secret, ok := tag.Lookup("secret"); ok {
			name, required := strings.CutSuffix(secret, ",required")
			s.Secret = name
			s.Required = s.Required || required
		}
		out = append(out, s)
	}
	return out, nil
}

// findEndpoints lists the patterns a package registers with Handle or HandleFunc on a
// fn.Router or an http.ServeMux.
func findEndpoints(p *packages.Package) []string {
	var out []string
	for _, file := range p.Syntax {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			callee := calleeOf(call, p.TypesInfo)
			if callee == nil || (callee.Name() != "Handle" && callee.Name() != "HandleFunc") {
				return true
			}
			recv := callee.Signature().Recv()
			if recv == nil {
				return true
			}
			switch strings.TrimPrefix(recv.Type().String(), "*") {
			case ModulePath + "/shared/fn.Router", "net/http.ServeMux":
			default:
				return true
			}
			if pattern, ok := constantPrefix(call.Args[0], p.TypesInfo); ok {
				out = append(out, pattern)
			}
			return true
		})
	}
	sort.Strings(out)
	return out
}

// constantPrefix is the value of a constant string expression, or of the constant start of
// a concatenation ("POST /a/{id}/" + name gives "POST /a/{id}/").
func constantPrefix(e ast.Expr, info *types.Info) (string, bool) {
	if tv, ok := info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
		return constant.StringVal(tv.Value), true
	}
	if b, ok := ast.Unparen(e).(*ast.BinaryExpr); ok && b.Op == token.ADD {
		return constantPrefix(b.X, info)
	}
	return "", false
}
