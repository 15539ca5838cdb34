package judge

import (
	"fmt"
	"strings"

	"github.com/kubedojo/dojo/internal/check"
	"github.com/kubedojo/dojo/internal/workshop"
)

// ClusterReachable judges the API server's answer to a version request.
func ClusterReachable(context, version string, err error) check.Result {
	expected := "the API server of context " + context + " answers"
	if err != nil {
		return fail("the cluster does not answer: "+firstLine(err), expected, "create or complete it: dojo up")
	}
	return pass("context %s answers: Kubernetes %s", context, version)
}

// IngressReady judges Traefik: its Deployment, its IngressClass and an answer
// on the laptop's port 80 (any HTTP answer, a 404 included, shows Traefik
// listens).
func IngressReady(traefik Workload, class Object, port80 HTTPAnswer) check.Result {
	if r := WorkloadReady(traefik, 1, "install it again: dojo up"); r.Status != check.Pass {
		return r
	}
	expected := "Traefik ready, the IngressClass traefik, and an HTTP answer on port 80"
	switch {
	case class.Err != nil:
		return fail("could not read the IngressClass traefik: "+firstLine(class.Err), expected, "dojo up")
	case !class.Found:
		return fail("no IngressClass traefik", expected, "dojo up installs Traefik with it: run dojo up again")
	case port80.Err != nil:
		return fail(fmt.Sprintf("nothing answers on %s: %s", port80.Via, firstLine(port80.Err)), expected,
			"port 80 of this machine must reach the kind node: see `dojo doctor`, then dojo up")
	}
	return pass("Traefik ready, IngressClass traefik, %s answers (HTTP %d)", port80.Via, port80.Code)
}

// AppDeployed judges the three app releases and their workloads. The
// consumer may rest at 0 replicas under step 10's HPA (h): after step 10
// that is the app as deployed.
func AppDeployed(releases []Release, workloads []Workload, h HPA) check.Result {
	expected := "the releases redis, producer and consumer deployed in default and their pods ready"
	var ok []string
	for _, r := range releases {
		switch {
		case r.Err != nil:
			return fail("could not read release "+r.Name+": "+firstLine(r.Err), expected, "dojo check step-2")
		case !r.Found:
			return fail("no release "+r.Name+" in namespace "+r.Namespace, expected, "install it: dojo up")
		case r.Status != "deployed":
			obs := fmt.Sprintf("release %s is %s", r.Name, r.Status)
			if r.Description != "" {
				obs += ": " + oneLine(r.Description)
			}
			return fail(obs, expected, "run dojo up again: it says what stops the release")
		}
		ok = append(ok, r.Name)
	}
	resting := ""
	for _, w := range workloads {
		if w.Name == workshop.ConsumerRelease && RestsAtZero(w, h) {
			resting = "; the consumer rests at 0 replicas under the HPA's minReplicas 0 (step 10)"
			continue
		}
		if r := WorkloadReady(w, 1, "dojo up"); r.Status != check.Pass {
			return r
		}
	}
	return pass("releases %s deployed, their pods ready%s", strings.Join(ok, ", "), resting)
}

// HTTPOK judges an exchange that must answer 2xx.
func HTTPOK(a HTTPAnswer, expected, next string) check.Result {
	switch {
	case a.Err != nil:
		return fail(fmt.Sprintf("%s through %s: %s", a.URL, a.Via, firstLine(a.Err)), expected, next)
	case a.Code/100 != 2:
		return fail(fmt.Sprintf("%s through %s answered HTTP %d: %s", a.URL, a.Via, a.Code, oneLine(a.Body)), expected, next)
	}
	return pass("%s answered HTTP %d through %s", a.URL, a.Code, a.Via)
}

// Queue is the queue's length as the producer reports it.
type Queue struct {
	Length int64
	Err    error
}

// QueueEmpty judges that the list padok is empty.
func QueueEmpty(q Queue) check.Result {
	expected := "the list " + workshop.Queue + " is empty"
	switch {
	case q.Err != nil:
		return fail("could not read the queue through the producer: "+firstLine(q.Err), expected, "dojo check step-2")
	case q.Length > 0:
		return fail(fmt.Sprintf("%d item(s) wait in %s", q.Length, workshop.Queue), expected,
			"let the consumer drain it (kubectl logs deploy/consumer -f), or check it runs: kubectl get deploy consumer")
	}
	return pass("the list %s is empty", workshop.Queue)
}

// QueueDrains judges a live test: items published, then the queue read
// until empty or the bound passed.
func QueueDrains(published int, waited string, q Queue) check.Result {
	r := QueueEmpty(q)
	if r.Status != check.Pass {
		r.Observed = fmt.Sprintf("after publishing %d item(s) and waiting %s, %s", published, waited, r.Observed)
		return r
	}
	return pass("%d item(s) published and processed: the list %s was empty again after %s", published, workshop.Queue, waited)
}

// ClusterDeleted judges the cleanup: no kind cluster of that name and no
// kubeconfig context for it.
func ClusterDeleted(name string, clusters []string, clustersErr error, contexts []string, contextsErr error) check.Result {
	ctx := workshop.KindContext(name)
	expected := "no kind cluster " + name + " and no kubeconfig context " + ctx
	switch {
	case clustersErr != nil:
		return fail("could not list kind clusters: "+firstLine(clustersErr), expected, "start the container runtime, or check with `kind get clusters`")
	case contextsErr != nil:
		return fail("could not read the kubeconfig: "+firstLine(contextsErr), expected, "kubectl config get-contexts")
	}
	for _, c := range clusters {
		if c == name {
			return fail("the kind cluster "+name+" still exists", expected, "dojo teardown")
		}
	}
	for _, c := range contexts {
		if c == ctx {
			return fail("the cluster is gone but the kubeconfig still has the context "+ctx, expected, "kubectl config delete-context "+ctx)
		}
	}
	return pass("no kind cluster %s and no context %s", name, ctx)
}
