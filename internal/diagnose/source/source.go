// Package source knows where, in each Kubernetes release, the HPA controller
// divides a metric by the target's replicas: the statement behind the
// -9223372036854775808m an HPA shows at zero replicas.
//
// The table (table_gen.go) is not typed by hand: gen reads
// pkg/controller/podautoscaler/replica_calculator.go of every release of the
// k8s.io/kubernetes module the Go module proxy serves, from v1.30.0 to the
// newest v1.37 patch, and writes it; source_test.go reads the same files
// again and fails when the table no longer matches them.
package source

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"strings"
)

// The files and functions the table is about.
const (
	Repo           = "https://github.com/kubernetes/kubernetes"
	CalculatorFile = "pkg/controller/podautoscaler/replica_calculator.go"
	ControllerFile = "pkg/controller/podautoscaler/horizontal.go"
	ObjectFunc     = "GetObjectPerPodMetricReplicas"
	ExternalFunc   = "GetExternalPerPodMetricReplicas"
	// Statement is the division, as every release in the table writes it.
	Statement = "usage = int64(math.Ceil(float64(usage) / float64(statusReplicas)))"
	// First is the oldest release in the table.
	First = "v1.30.0"
	// Issue is the upstream report of the division by zero replicas.
	Issue = "https://github.com/kubernetes/kubernetes/issues/140956"
	// SeedLink is where the 2021 workshop pointed: the same statement,
	// line 300 at the commit it was read at.
	SeedLink = Repo + "/blob/617064d7327bf455955cb785d57330c425d48b51/" + CalculatorFile + "#L300"
)

// Line is one release: the line of the division in each function (0 when
// the release has no unguarded division there).
type Line struct {
	Version  string
	Object   int
	External int
}

// Lookup finds the release v ("v1.37.2"; a vendor's "v1.30.5-gke.100" is
// looked up as v1.30.5, its upstream base).
func Lookup(v string) (Line, bool) {
	base := Base(v)
	for _, l := range Table() {
		if l.Version == base {
			return l, true
		}
	}
	return Line{}, false
}

// Base is v without a pre-release or build suffix ("v1.30.5-gke.100" →
// "v1.30.5").
func Base(v string) string {
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		return v[:i]
	}
	return v
}

// Range is the table's first and newest release.
func Range() (first, newest string) {
	t := Table()
	return t[0].Version, t[len(t)-1].Version
}

// URL links line n of file at release tag v.
func URL(v, file string, n int) string {
	u := Repo + "/blob/" + v + "/" + file
	if n > 0 {
		u += fmt.Sprintf("#L%d", n)
	}
	return u
}

// Division is the division statement found in one function.
type Division struct {
	// Line of `usage = int64(math.Ceil(float64(usage) / float64(statusReplicas)))`,
	// 0 when the function has none or guards it.
	Line int
	// Statement is its source text.
	Statement string
	// Guarded: the function compares statusReplicas with a number before
	// dividing (a fix); Line is then 0.
	Guarded bool
	// DesiredFirst: every assignment to replicaCount comes before the
	// division, so the desired count never reads the divided usage.
	DesiredFirst bool
}

// Calculator is what Extract reads in replica_calculator.go.
type Calculator struct {
	Object, External Division
}

// Extract finds the divisions by statusReplicas in the two per-pod
// functions of replica_calculator.go.
func Extract(src []byte) (Calculator, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, CalculatorFile, src, 0)
	if err != nil {
		return Calculator{}, err
	}
	var c Calculator
	found := 0
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		switch fd.Name.Name {
		case ObjectFunc:
			c.Object, found = division(fset, fd), found+1
		case ExternalFunc:
			c.External, found = division(fset, fd), found+1
		}
	}
	if found != 2 {
		return c, fmt.Errorf("%s and %s: found %d of the two functions", ObjectFunc, ExternalFunc, found)
	}
	return c, nil
}

// division finds, in fd, the assignment whose right side divides by
// float64(statusReplicas).
func division(fset *token.FileSet, fd *ast.FuncDecl) Division {
	var d Division
	var at token.Pos
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if isStatusReplicasCompare(n) {
				d.Guarded = true
			}
		case *ast.AssignStmt:
			if at == token.NoPos && dividesByStatusReplicas(n) {
				at = n.Pos()
				d.Line = fset.Position(at).Line
				d.Statement = text(fset, n)
			}
		}
		return true
	})
	if at == token.NoPos {
		return d
	}
	d.DesiredFirst = true
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if a, ok := n.(*ast.AssignStmt); ok && a.Pos() > at {
			for _, l := range a.Lhs {
				if id, ok := l.(*ast.Ident); ok && id.Name == "replicaCount" {
					d.DesiredFirst = false
				}
			}
		}
		return true
	})
	if d.Guarded {
		d.Line = 0
	}
	return d
}

func dividesByStatusReplicas(a *ast.AssignStmt) bool {
	hit := false
	for _, r := range a.Rhs {
		ast.Inspect(r, func(n ast.Node) bool {
			if b, ok := n.(*ast.BinaryExpr); ok && b.Op == token.QUO && isFloat64Of(b.Y, "statusReplicas") {
				hit = true
			}
			return !hit
		})
	}
	return hit
}

// isStatusReplicasCompare: statusReplicas == 0, statusReplicas > 0, 0 < statusReplicas, ….
func isStatusReplicasCompare(b *ast.BinaryExpr) bool {
	switch b.Op {
	case token.EQL, token.NEQ, token.GTR, token.GEQ, token.LSS, token.LEQ:
	default:
		return false
	}
	return isIdent(b.X, "statusReplicas") || isIdent(b.Y, "statusReplicas")
}

func isFloat64Of(e ast.Expr, name string) bool {
	c, ok := e.(*ast.CallExpr)
	return ok && isIdent(c.Fun, "float64") && len(c.Args) == 1 && isIdent(c.Args[0], name)
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func text(fset *token.FileSet, n ast.Node) string {
	var b bytes.Buffer
	_ = printer.Fprint(&b, fset, n)
	return b.String()
}

// Branch is one `if` of a computeStatusFor… function of horizontal.go: its
// condition and the ReplicaCalculator method it calls, with its arguments.
type Branch struct {
	Cond string
	Call string
	Args []string
}

// Controller is what ExtractController reads in horizontal.go.
type Controller struct {
	// Object and External are the branches of computeStatusForObjectMetric
	// and computeStatusForExternalMetric, in order.
	Object, External []Branch
	// Refusal is the message computeStatusForObjectMetric gives when no
	// branch is taken ("" when it has none).
	Refusal string
}

// ExtractController reads how horizontal.go picks the calculator for an
// Object and an External metric.
func ExtractController(src []byte) (Controller, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, ControllerFile, src, 0)
	if err != nil {
		return Controller{}, err
	}
	var c Controller
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		switch fd.Name.Name {
		case "computeStatusForObjectMetric":
			c.Object = branches(fset, fd)
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING && strings.Contains(l.Value, "neither a value target nor an average value target") {
					c.Refusal = strings.Trim(l.Value, "\"`")
				}
				return true
			})
		case "computeStatusForExternalMetric":
			c.External = branches(fset, fd)
		}
	}
	if c.Object == nil || c.External == nil {
		return c, fmt.Errorf("%s: computeStatusForObjectMetric or computeStatusForExternalMetric not found", ControllerFile)
	}
	return c, nil
}

// branches lists the top-level ifs of fd (following else-ifs) and the
// replicaCalc method each calls first.
func branches(fset *token.FileSet, fd *ast.FuncDecl) []Branch {
	var out []Branch
	var walk func(s *ast.IfStmt)
	walk = func(s *ast.IfStmt) {
		b := Branch{Cond: text(fset, s.Cond)}
		ast.Inspect(s.Body, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || b.Call != "" {
				return b.Call == ""
			}
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
				if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "replicaCalc" {
					b.Call = sel.Sel.Name
					for _, a := range c.Args {
						b.Args = append(b.Args, text(fset, a))
					}
				}
			}
			return true
		})
		out = append(out, b)
		if e, ok := s.Else.(*ast.IfStmt); ok {
			walk(e)
		}
	}
	for _, st := range fd.Body.List {
		if s, ok := st.(*ast.IfStmt); ok {
			walk(s)
		}
	}
	return out
}
