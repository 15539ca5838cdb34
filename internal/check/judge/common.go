package judge

import (
	"fmt"
	"strings"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/versions"
)

func pass(observed string, a ...any) check.Result {
	return check.Result{Status: check.Pass, Observed: fmt.Sprintf(observed, a...)}
}

func fail(observed, expected, next string) check.Result {
	return check.Result{Status: check.Fail, Observed: observed, Expected: expected, Next: next}
}

// firstLine keeps one line of an error for a one-line verdict.
func firstLine(err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// ReleaseInstall is the helm command that installs a pinned chart with the
// learner's values file.
func ReleaseInstall(c versions.Chart, valuesFile string) string {
	return fmt.Sprintf("helm upgrade --install %s %s/%s --version %s -n %s --create-namespace -f %s",
		c.Release, c.RepoName, c.Name, c.Version, c.Namespace, valuesFile)
}

// ReleaseDeployed judges that release c is deployed from the pinned chart. install
// is the command that installs it.
func ReleaseDeployed(f Release, c versions.Chart, install string) check.Result {
	expected := fmt.Sprintf("release %s in namespace %s, chart %s %s, status deployed", c.Release, c.Namespace, c.Name, c.Version)
	switch {
	case f.Err != nil:
		return fail("could not read the release: "+firstLine(f.Err), expected, "check that the cluster answers: dojo check step-2")
	case !f.Found:
		return fail(fmt.Sprintf("no release %s in namespace %s", c.Release, c.Namespace), expected, install)
	case f.Chart != c.Name || f.Version != c.Version:
		return fail(fmt.Sprintf("release %s is chart %s %s", c.Release, f.Chart, f.Version), expected,
			fmt.Sprintf("install the pinned version: %s", install))
	case f.Status != "deployed":
		obs := fmt.Sprintf("release %s is %s", c.Release, f.Status)
		if f.Description != "" {
			obs += ": " + oneLine(f.Description)
		}
		return fail(obs, expected, fmt.Sprintf("read `helm status %s -n %s`, fix your values and run the install again: %s", c.Release, c.Namespace, install))
	}
	return pass("release %s: chart %s %s, deployed", c.Release, f.Chart, f.Version)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// WorkloadReady judges that a Deployment or StatefulSet has at least min
// replicas and all of them ready.
func WorkloadReady(f Workload, min int32, fix string) check.Result {
	what := fmt.Sprintf("%s %s/%s", f.Kind, f.Namespace, f.Name)
	expected := fmt.Sprintf("%s with at least %d replica(s), all ready", what, min)
	switch {
	case f.Err != nil:
		return fail("could not read "+what+": "+firstLine(f.Err), expected, "check that the cluster answers: dojo check step-2")
	case !f.Found:
		return fail("no "+what, expected, fix)
	case f.Desired < min:
		return fail(fmt.Sprintf("%s wants %d replica(s)", what, f.Desired), expected,
			fmt.Sprintf("scale it up: kubectl scale %s %s -n %s --replicas=%d", strings.ToLower(f.Kind), f.Name, f.Namespace, max(min, 1)))
	case f.Ready < f.Desired:
		obs := fmt.Sprintf("%s has %d of %d replicas ready", what, f.Ready, f.Desired)
		if len(f.Pods) > 0 {
			obs += " (" + strings.Join(f.Pods, "; ") + ")"
		}
		return fail(obs, expected, fmt.Sprintf("look at its pods: kubectl describe pods -n %s -l app.kubernetes.io/name=%s", f.Namespace, f.Name))
	}
	return pass("%s: %d of %d replicas ready", what, f.Ready, f.Desired)
}

// lookup walks a values map along a dotted path; ok false when a step is
// missing or not a map.
func lookup(vals map[string]any, path string) (any, bool) {
	var cur any = vals
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}
