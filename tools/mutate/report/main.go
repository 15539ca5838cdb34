// Command report reads the JSON that `gremlins unleash -o` writes, one file
// per package, prints a score line per package and fails when a mutant lived
// (or was not covered) without a one-line explanation in the explained file.
//
// An explanation names the file, the enclosing function ("-" outside any),
// the mutator and the source line's text, not its number, so it survives
// edits elsewhere in the file but covers only that line of that function:
//
//	internal/ui/progress.go | animate | CONDITIONALS_BOUNDARY | if len(p.running) > 0 { | why it cannot be killed
//
// Each entry must match exactly one source line; the report fails when one
// matches several (say which with a more precise function) or none.
//
// Usage: report -explained FILE -root DIR pkgdir=result.json ...
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type result struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
	Elapsed float64 `json:"elapsed_time"`
}

type key struct{ file, fn, mutator, line string }

func main() {
	explainedPath := flag.String("explained", "", "file of explained survivors")
	root := flag.String("root", ".", "the module root (source lines are read from here)")
	flag.Parse()
	explained, err := readExplained(*explainedPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	used := map[key]bool{}
	sources := map[string]source{}
	var unexplained []string
	fmt.Printf("%-20s %7s %6s %9s %11s %9s %8s\n", "package", "killed", "lived", "timed out", "not covered", "efficacy", "time")
	for _, arg := range flag.Args() {
		pkg, path, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "report: %q is not pkgdir=result.json\n", arg)
			os.Exit(2)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		var r result
		if err := json.Unmarshal(data, &r); err != nil {
			fmt.Fprintf(os.Stderr, "report: %s: %v\n", path, err)
			os.Exit(1)
		}
		counts := map[string]int{}
		for _, f := range r.Files {
			file := filepath.ToSlash(filepath.Join(pkg, filepath.Base(f.FileName)))
			lines, funcs, err := readSource(filepath.Join(*root, file))
			if err != nil {
				fmt.Fprintln(os.Stderr, "report:", err)
				os.Exit(1)
			}
			sources[file] = source{lines, funcs}
			for _, m := range f.Mutations {
				counts[m.Status]++
				if m.Status != "LIVED" && m.Status != "NOT COVERED" {
					continue
				}
				text, fn := "", "-"
				if m.Line >= 1 && m.Line <= len(lines) {
					text, fn = strings.TrimSpace(lines[m.Line-1]), funcs[m.Line-1]
				}
				k := key{file, fn, m.Type, text}
				if _, ok := explained[k]; ok {
					used[k] = true
					continue
				}
				unexplained = append(unexplained, fmt.Sprintf("%s:%d:%d %s %s (in %s): %s", file, m.Line, m.Column, m.Status, m.Type, fn, text))
			}
		}
		eff := 0.0
		if n := counts["KILLED"] + counts["LIVED"]; n > 0 {
			eff = 100 * float64(counts["KILLED"]) / float64(n)
		}
		fmt.Printf("%-20s %7d %6d %9d %11d %8.1f%% %7.0fs\n", pkg, counts["KILLED"], counts["LIVED"], counts["TIMED OUT"], counts["NOT COVERED"], eff, r.Elapsed)
	}
	var notes, ambiguous []string
	for k := range explained {
		if !used[k] {
			notes = append(notes, fmt.Sprintf("note: explained but not seen (killed now, or the line changed): %s | %s | %s | %s", k.file, k.fn, k.mutator, k.line))
		}
		if src, ok := sources[k.file]; ok {
			if n := src.count(k.fn, k.line); n != 1 {
				ambiguous = append(ambiguous, fmt.Sprintf("%s | %s | %s | %s matches %d lines", k.file, k.fn, k.mutator, k.line, n))
			}
		}
	}
	sort.Strings(notes)
	sort.Strings(ambiguous)
	for _, n := range notes {
		fmt.Println(n)
	}

	if len(unexplained) > 0 {
		fmt.Println("\nsurvivors without a test or an explanation (add a test, or a line to the explained file):")
		for _, u := range unexplained {
			fmt.Println("  " + u)
		}
	}
	if len(ambiguous) > 0 {
		fmt.Println("\nexplanations that must match exactly one line (name the function, or the line changed):")
		for _, a := range ambiguous {
			fmt.Println("  " + a)
		}
	}
	if len(unexplained) > 0 || len(ambiguous) > 0 {
		os.Exit(1)
	}
}

func readExplained(path string) (map[key]string, error) {
	out := map[key]string{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, " | ")
		if len(parts) != 5 || strings.TrimSpace(parts[4]) == "" {
			return nil, fmt.Errorf("%s:%d: want `file | function | MUTATOR | source line | reason`, got %q", path, n, line)
		}
		out[key{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2]), strings.TrimSpace(parts[3])}] = parts[4]
	}
	return out, s.Err()
}

// source is a file's lines and, per line, the function it is in ("-"
// outside any; methods as Type.Method).
type source struct {
	lines []string
	funcs []string
}

func (s source) count(fn, text string) int {
	n := 0
	for i, l := range s.lines {
		if s.funcs[i] == fn && strings.TrimSpace(l) == text {
			n++
		}
	}
	return n
}

func readSource(path string) ([]string, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(string(data), "\n")
	funcs := make([]string, len(lines))
	for i := range funcs {
		funcs[i] = "-"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, data, parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		name := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) > 0 {
			t := fd.Recv.List[0].Type
			if st, ok := t.(*ast.StarExpr); ok {
				t = st.X
			}
			if id, ok := t.(*ast.Ident); ok {
				name = id.Name + "." + name
			}
		}
		from, to := fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line
		for l := from; l <= to && l <= len(funcs); l++ {
			funcs[l-1] = name
		}
	}
	return lines, funcs, nil
}
