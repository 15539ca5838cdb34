// Command report reads the JSON that `gremlins unleash -o` writes, one file
// per package, prints a score line per package and fails when a mutant lived
// (or was not covered) without a one-line explanation in the explained file.
//
// An explanation names the file, the mutator and the source line's text, not
// its number, so it survives edits elsewhere in the file:
//
//	internal/ui/progress.go | CONDITIONALS_BOUNDARY | if len(p.running) > 0 { | why it cannot be killed
//
// Usage: report -explained FILE -root DIR pkgdir=result.json ...
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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

type key struct{ file, mutator, line string }

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
			lines, err := readLines(filepath.Join(*root, file))
			if err != nil {
				fmt.Fprintln(os.Stderr, "report:", err)
				os.Exit(1)
			}
			for _, m := range f.Mutations {
				counts[m.Status]++
				if m.Status != "LIVED" && m.Status != "NOT COVERED" {
					continue
				}
				text := ""
				if m.Line >= 1 && m.Line <= len(lines) {
					text = strings.TrimSpace(lines[m.Line-1])
				}
				k := key{file, m.Type, text}
				if _, ok := explained[k]; ok {
					used[k] = true
					continue
				}
				unexplained = append(unexplained, fmt.Sprintf("%s:%d:%d %s %s: %s", file, m.Line, m.Column, m.Status, m.Type, text))
			}
		}
		eff := 0.0
		if n := counts["KILLED"] + counts["LIVED"]; n > 0 {
			eff = 100 * float64(counts["KILLED"]) / float64(n)
		}
		fmt.Printf("%-20s %7d %6d %9d %11d %8.1f%% %7.0fs\n", pkg, counts["KILLED"], counts["LIVED"], counts["TIMED OUT"], counts["NOT COVERED"], eff, r.Elapsed)
	}
	for k := range explained {
		if !used[k] {
			fmt.Printf("note: explained but not seen (killed now, or the line changed): %s | %s | %s\n", k.file, k.mutator, k.line)
		}
	}
	if len(unexplained) > 0 {
		fmt.Println("\nsurvivors without a test or an explanation (add a test, or a line to the explained file):")
		for _, u := range unexplained {
			fmt.Println("  " + u)
		}
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
		if len(parts) != 4 || strings.TrimSpace(parts[3]) == "" {
			return nil, fmt.Errorf("%s:%d: want `file | MUTATOR | source line | reason`, got %q", path, n, line)
		}
		out[key{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])}] = parts[3]
	}
	return out, s.Err()
}

func readLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(string(data), "\n"), nil
}
