package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// kubelet is the lab's PROCESS KUBELET, a stand-in for a kubelet and a
// container runtime: for every Pod whose images it knows (see launcher), it
// binds the Pod to the lab's Node, starts a host process per container on an
// address of the Pod's own inside the lab namespace, and reports the Pod
// Running and Ready with that address as podIP through the status
// subresource. It restarts processes that exit, and stops them when the Pod
// is deleted (then removes the Pod, as a kubelet confirms a graceful delete).
type kubelet struct {
	l      *Lab
	ctx    context.Context
	mu     sync.Mutex
	pods   map[types.UID]*podRun
	warned map[types.UID]bool
	svcs   cache.Indexer
	slices cache.Indexer
}

type podRun struct {
	ns, name string
	uid      types.UID
	ip       string
	dir      string
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	procs    map[string]*process
}

func (l *Lab) startKubelet(ctx context.Context) error {
	k := &kubelet{l: l, ctx: ctx, pods: map[types.UID]*podRun{}, warned: map[types.UID]bool{}}
	f := informers.NewSharedInformerFactory(l.client, 0)
	podInf := f.Core().V1().Pods().Informer()
	svcInf := f.Core().V1().Services().Informer()
	sliceInf := f.Discovery().V1().EndpointSlices().Informer()
	k.svcs, k.slices = svcInf.GetIndexer(), sliceInf.GetIndexer()
	_, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { k.sync(o) },
		UpdateFunc: func(_, o any) { k.sync(o) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			if p, ok := o.(*corev1.Pod); ok {
				k.stopPod(p.UID, false)
			}
		},
	})
	if err != nil {
		return err
	}
	f.Start(ctx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("informer %v did not sync", typ)
		}
	}
	l.kubelet = k
	return nil
}

func (k *kubelet) logf(format string, args ...any) { k.l.logf("process kubelet: "+format, args...) }

func (k *kubelet) sync(o any) {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		k.mu.Lock()
		_, ours := k.pods[pod.UID]
		k.mu.Unlock()
		if ours {
			go k.stopPod(pod.UID, true)
		} else if pod.Spec.NodeName == NodeName {
			// bound here but never run (image without a stand-in): confirm
			// the deletion, as a kubelet would
			go k.forceDelete(pod.Namespace, pod.Name, pod.UID)
		}
		return
	}
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != NodeName {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, running := k.pods[pod.UID]; running || k.ctx.Err() != nil {
		return
	}
	for _, c := range pod.Spec.Containers {
		if _, ok := launcherFor(c.Image); !ok {
			if !k.warned[pod.UID] {
				k.warned[pod.UID] = true
				k.logf("pod %s/%s: image %s has no stand-in; the pod stays Pending", pod.Namespace, pod.Name, c.Image)
			}
			return
		}
	}
	ctx, cancel := context.WithCancel(k.ctx)
	run := &podRun{ns: pod.Namespace, name: pod.Name, uid: pod.UID, cancel: cancel, done: make(chan struct{}), procs: map[string]*process{},
		dir: filepath.Join(k.l.dir, "pods", pod.Namespace+"_"+pod.Name)}
	k.pods[pod.UID] = run
	k.l.bg.Add(1)
	go func() {
		defer k.l.bg.Done()
		defer close(run.done)
		if err := k.runPod(ctx, run, pod.DeepCopy()); err != nil && ctx.Err() == nil {
			k.logf("pod %s/%s: %v", pod.Namespace, pod.Name, err)
		}
	}()
}

// stopPod stops a pod's processes; with confirm it then deletes the Pod
// object for good (grace 0), as a kubelet does after a graceful delete.
func (k *kubelet) stopPod(uid types.UID, confirm bool) {
	k.mu.Lock()
	run := k.pods[uid]
	k.mu.Unlock()
	if run == nil {
		return
	}
	run.cancel()
	<-run.done
	run.mu.Lock()
	for _, p := range run.procs {
		p.Stop(10 * time.Second)
	}
	run.mu.Unlock()
	k.mu.Lock()
	delete(k.pods, uid)
	k.mu.Unlock()
	if confirm {
		k.forceDelete(run.ns, run.name, uid)
	}
}

func (k *kubelet) forceDelete(ns, name string, uid types.UID) {
	zero := int64(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := k.l.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		k.logf("pod %s/%s: confirm deletion: %v", ns, name, err)
	}
}

// stopAll stops every pod process (the lab is stopping).
func (k *kubelet) stopAll() {
	k.mu.Lock()
	var uids []types.UID
	for uid := range k.pods {
		uids = append(uids, uid)
	}
	k.mu.Unlock()
	var wg sync.WaitGroup
	for _, uid := range uids {
		wg.Add(1)
		go func() { defer wg.Done(); k.stopPod(uid, false) }()
	}
	wg.Wait()
}

func (k *kubelet) runPod(ctx context.Context, run *podRun, pod *corev1.Pod) error {
	client := k.l.client.CoreV1().Pods(pod.Namespace)
	if pod.Spec.NodeName == "" {
		err := client.Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("bind: %w", err)
		}
	}
	ip, err := k.l.allocIP(true)
	if err != nil {
		return err
	}
	run.ip = ip
	if err := os.MkdirAll(run.dir, 0o755); err != nil {
		return err
	}
	mounts, err := k.prepareVolumes(ctx, run, pod)
	if err != nil {
		return err
	}
	// Resolve every container's command first: names of Services must have
	// a ready endpoint (there is no cluster DNS; see translate).
	type prepared struct {
		c    corev1.Container
		spec procSpec
	}
	var cs []prepared
	for _, c := range pod.Spec.Containers {
		var spec procSpec
		err := retryUntil(ctx, func() error {
			var err error
			spec, err = k.prepare(ctx, run, pod, c, mounts)
			return err
		}, func(err error) { k.setWaiting(ctx, pod, run, err.Error()) })
		if err != nil {
			return err
		}
		cs = append(cs, prepared{c, spec})
	}
	start := metav1.Now()
	restarts := map[string]int32{}
	ready := map[string]bool{}
	startC := func(p prepared) error {
		proc, err := startProcess(filepath.Join(k.l.dir, "logs"), "pod_"+pod.Namespace+"_"+pod.Name+"_"+p.c.Name, p.spec.path, p.spec.args, p.spec.env, run.dir)
		if err != nil {
			return err
		}
		run.mu.Lock()
		run.procs[p.c.Name] = proc
		run.mu.Unlock()
		return nil
	}
	for _, p := range cs {
		if err := startC(p); err != nil {
			return err
		}
	}
	k.setStatus(ctx, pod, run, start, restarts, ready)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	nextProbe := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		changed := false
		for _, p := range cs {
			run.mu.Lock()
			proc := run.procs[p.c.Name]
			run.mu.Unlock()
			if proc.Exited() {
				if ctx.Err() != nil {
					return nil
				}
				k.logf("pod %s/%s: container %s exited (%v); restarting\n%s", pod.Namespace, pod.Name, p.c.Name, proc.waitErr, proc.Tail(10))
				restarts[p.c.Name]++
				ready[p.c.Name] = false
				k.setStatus(ctx, pod, run, start, restarts, ready)
				backoff := time.Duration(restarts[p.c.Name]) * time.Second
				if backoff > 10*time.Second {
					backoff = 10 * time.Second
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(backoff):
				}
				if err := startC(p); err != nil {
					return err
				}
				changed = true
				continue
			}
			if time.Now().After(nextProbe) || !ready[p.c.Name] {
				ok := probe(ctx, run.ip, p.c) == nil
				if ok != ready[p.c.Name] {
					ready[p.c.Name] = ok
					changed = true
				}
			}
		}
		if time.Now().After(nextProbe) {
			nextProbe = time.Now().Add(2 * time.Second)
		}
		if changed {
			k.setStatus(ctx, pod, run, start, restarts, ready)
		}
	}
}

// retryUntil calls fn every second until it succeeds or ctx ends, telling
// onErr about each failure.
func retryUntil(ctx context.Context, fn func() error, onErr func(error)) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		onErr(err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (k *kubelet) setWaiting(ctx context.Context, pod *corev1.Pod, run *podRun, msg string) {
	k.updateStatus(ctx, pod, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Message = "process kubelet (lab stand-in): " + msg
		p.Status.Reason = "ContainerCreating"
	})
}

func (k *kubelet) setStatus(ctx context.Context, pod *corev1.Pod, run *podRun, start metav1.Time, restarts map[string]int32, ready map[string]bool) {
	allReady := true
	var statuses []corev1.ContainerStatus
	for _, c := range pod.Spec.Containers {
		run.mu.Lock()
		proc := run.procs[c.Name]
		run.mu.Unlock()
		st := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "lab://" + c.Image, RestartCount: restarts[c.Name], Ready: ready[c.Name]}
		if proc != nil && !proc.Exited() {
			st.ContainerID = fmt.Sprintf("lab://%d", proc.cmd.Process.Pid)
			st.State.Running = &corev1.ContainerStateRunning{StartedAt: start}
			t := true
			st.Started = &t
		} else {
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
		}
		allReady = allReady && st.Ready
		statuses = append(statuses, st)
	}
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: metav1.Now()}
	}
	k.updateStatus(ctx, pod, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Reason, p.Status.Message = "", ""
		p.Status.HostIP = run.ip
		p.Status.HostIPs = []corev1.HostIP{{IP: run.ip}}
		p.Status.PodIP = run.ip
		p.Status.PodIPs = []corev1.PodIP{{IP: run.ip}}
		p.Status.StartTime = &start
		p.Status.ContainerStatuses = statuses
		p.Status.Conditions = []corev1.PodCondition{
			cond(corev1.PodScheduled, true), cond(corev1.PodInitialized, true),
			cond(corev1.ContainersReady, allReady), cond(corev1.PodReady, allReady),
		}
	})
}

func (k *kubelet) updateStatus(ctx context.Context, pod *corev1.Pod, mutate func(*corev1.Pod)) {
	client := k.l.client.CoreV1().Pods(pod.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := client.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != pod.UID || cur.DeletionTimestamp != nil {
			return nil
		}
		mutate(cur)
		_, err = client.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
		k.logf("pod %s/%s: status: %v", pod.Namespace, pod.Name, err)
	}
}

// probe runs a container's readiness probe against the pod's address: HTTP
// and TCP probes as declared; an exec probe (which the lab cannot run in an
// image) and a missing probe become a TCP check of the first port.
func probe(ctx context.Context, ip string, c corev1.Container) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pr := c.ReadinessProbe
	if pr != nil && pr.HTTPGet != nil {
		port, err := containerPort(c, pr.HTTPGet.Port)
		if err != nil {
			return err
		}
		scheme := strings.ToLower(string(pr.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		url := fmt.Sprintf("%s://%s/%s", scheme, net.JoinHostPort(ip, strconv.Itoa(port)), strings.TrimPrefix(pr.HTTPGet.Path, "/"))
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // as a kubelet's HTTPS probe, which does not verify
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	}
	var port int
	switch {
	case pr != nil && pr.TCPSocket != nil:
		p, err := containerPort(c, pr.TCPSocket.Port)
		if err != nil {
			return err
		}
		port = p
	case len(c.Ports) > 0:
		port = int(c.Ports[0].ContainerPort)
	default:
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return err
	}
	return conn.Close()
}

func containerPort(c corev1.Container, p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.Name, p.StrVal)
}

// prepareVolumes materialises the pod's volumes under its directory:
// configMap and secret volumes as files, emptyDir as a directory, hostPath
// as itself. It returns mountPath → host directory for translate.
func (k *kubelet) prepareVolumes(ctx context.Context, run *podRun, pod *corev1.Pod) (map[string]string, error) {
	vols := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(run.dir, "volumes", v.Name)
		switch {
		case v.HostPath != nil:
			dir = v.HostPath.Path
			// A node directory this machine does not have (Redis's
			// append-only file) lives in the lab's own node root, which
			// outlives the pod as a node's disk does: the lab never
			// creates directories outside its folder.
			if _, err := os.Stat(dir); err != nil {
				dir = filepath.Join(k.l.dir, "node-root", v.HostPath.Path)
			}
		case v.ConfigMap != nil:
			var cm *corev1.ConfigMap
			err := retryUntil(ctx, func() (err error) {
				cm, err = k.l.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
				return err
			}, func(err error) { k.setWaiting(ctx, pod, run, err.Error()) })
			if err != nil {
				return nil, err
			}
			if err := writeFiles(dir, cm.Data); err != nil {
				return nil, err
			}
		case v.Secret != nil:
			var s *corev1.Secret
			err := retryUntil(ctx, func() (err error) {
				s, err = k.l.client.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
				return err
			}, func(err error) { k.setWaiting(ctx, pod, run, err.Error()) })
			if err != nil {
				return nil, err
			}
			data := map[string]string{}
			for key, val := range s.Data {
				data[key] = string(val)
			}
			if err := writeFiles(dir, data); err != nil {
				return nil, err
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		vols[v.Name] = dir
	}
	mounts := map[string]string{}
	for _, c := range pod.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if d, ok := vols[m.Name]; ok {
				mounts[path.Clean(m.MountPath)] = filepath.Join(d, m.SubPath)
			}
		}
	}
	return mounts, nil
}

func writeFiles(dir string, data map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, content := range data {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// procSpec is the host process standing in for one container.
type procSpec struct {
	path string
	args []string
	env  []string
}

// prepare turns a container into a host process: the launcher of its image
// picks the binary and adds what a host process needs; args and env are
// translated (see translate).
func (k *kubelet) prepare(ctx context.Context, run *podRun, pod *corev1.Pod, c corev1.Container, mounts map[string]string) (procSpec, error) {
	launch, _ := launcherFor(c.Image)
	tr := &translator{k: k, pod: pod, ip: run.ip, mounts: mounts}
	env := map[string]string{}
	var order []string
	for _, e := range c.Env {
		val := e.Value
		if e.ValueFrom != nil {
			v, err := tr.valueFrom(ctx, e.ValueFrom)
			if err != nil {
				return procSpec{}, fmt.Errorf("env %s: %w", e.Name, err)
			}
			val = v
		}
		t, err := tr.translate(val)
		if err != nil {
			return procSpec{}, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if _, seen := env[e.Name]; !seen {
			order = append(order, e.Name)
		}
		env[e.Name] = t
	}
	args := append(append([]string{}, c.Command...), c.Args...)
	for i, a := range args {
		t, err := tr.translate(a)
		if err != nil {
			return procSpec{}, fmt.Errorf("arg %q: %w", a, err)
		}
		args[i] = t
	}
	spec, err := launch(k.l, launchInput{pod: pod, c: c, ip: run.ip, dir: run.dir, args: args, env: env})
	if err != nil {
		return procSpec{}, err
	}
	base := []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + run.dir,
		"POD_IP=" + run.ip, "POD_NAME=" + pod.Name, "POD_NAMESPACE=" + pod.Namespace, "HOSTNAME=" + pod.Name}
	for _, name := range order {
		base = append(base, name+"="+env[name])
	}
	spec.env = append(base, spec.env...)
	return spec, nil
}

// translator rewrites a container's args and env for a host process in the
// lab namespace:
//   - a listen address ":8080" or "0.0.0.0:8080" (alone or after "=")
//     becomes "<podIP>:8080";
//   - a Service name (name, name.ns, name.ns.svc, name.ns.svc.cluster.local,
//     optionally with :port) becomes the address of one ready endpoint of
//     that Service, the port mapped to the endpoint's port — the lab has no
//     cluster DNS and no kube-proxy. A Service without a ready endpoint is
//     an error, and the process kubelet waits and retries, as a pod would
//     crash-loop until its dependency is up;
//   - a path under a volume's mountPath becomes the host directory of that
//     volume.
type translator struct {
	k      *kubelet
	pod    *corev1.Pod
	ip     string
	mounts map[string]string
}

func (t *translator) valueFrom(ctx context.Context, src *corev1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		switch src.FieldRef.FieldPath {
		case "status.podIP", "status.hostIP":
			return t.ip, nil
		case "metadata.name", "spec.hostname":
			return t.pod.Name, nil
		case "metadata.namespace":
			return t.pod.Namespace, nil
		case "spec.nodeName":
			return NodeName, nil
		case "spec.serviceAccountName":
			return t.pod.Spec.ServiceAccountName, nil
		}
		return "", fmt.Errorf("fieldRef %s not supported by the process kubelet", src.FieldRef.FieldPath)
	case src.ConfigMapKeyRef != nil:
		cm, err := t.k.l.client.CoreV1().ConfigMaps(t.pod.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	case src.SecretKeyRef != nil:
		s, err := t.k.l.client.CoreV1().Secrets(t.pod.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return string(s.Data[src.SecretKeyRef.Key]), nil
	}
	return "", nil
}

func (t *translator) translate(s string) (string, error) {
	listenRE := regexp.MustCompile(`(^|=)(0\.0\.0\.0|\[::\])?:(\d+)$`)
	hostRE := regexp.MustCompile(`[a-z0-9][-a-z0-9.]*[a-z0-9](:\d+)?`)
	s = listenRE.ReplaceAllString(s, "${1}"+t.ip+":${3}")
	// paths under a mount, longest mount first
	var mps []string
	for mp := range t.mounts {
		mps = append(mps, mp)
	}
	sort.Slice(mps, func(i, j int) bool { return len(mps[i]) > len(mps[j]) })
	for _, mp := range mps {
		if i := strings.Index(s, mp); i >= 0 && (i == 0 || s[i-1] == '=') {
			rest := s[i+len(mp):]
			if rest == "" || rest[0] == '/' {
				s = s[:i] + t.mounts[mp] + rest
				break
			}
		}
	}
	var b strings.Builder
	last := 0
	for _, m := range hostRE.FindAllStringIndex(s, -1) {
		word := s[m[0]:m[1]]
		if strings.HasPrefix(s[m[1]:], "://") {
			continue // a URL scheme such as redis://, not a host
		}
		host, port, _ := strings.Cut(word, ":")
		if port == "" && !strings.Contains(host, ".") {
			continue // a bare word ("producer" in `app producer`), not a host reference
		}
		svc := t.service(host)
		if svc == nil {
			if t.looksLikeService(host, port) {
				// A real pod would fail to resolve it and crash-loop until
				// the Service exists: wait for it.
				return "", fmt.Errorf("no Service %s yet (the process kubelet waits for it)", host)
			}
			continue
		}
		addr, p, err := t.k.endpoint(svc, port)
		if err != nil {
			return "", err
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(addr)
		if port != "" {
			b.WriteString(":" + strconv.Itoa(p))
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// looksLikeService tells whether a host that names no Service (yet) would be
// resolved by cluster DNS: name.ns.svc[.cluster.local], name.ns for an
// existing namespace, or name:port (not localhost).
func (t *translator) looksLikeService(host, port string) bool {
	if strings.HasSuffix(host, ".svc") || strings.HasSuffix(host, ".svc.cluster.local") {
		return true
	}
	parts := strings.Split(host, ".")
	switch {
	case len(parts) == 1:
		return port != "" && host != "localhost" && net.ParseIP(host) == nil
	case len(parts) == 2:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := t.k.l.client.CoreV1().Namespaces().Get(ctx, parts[1], metav1.GetOptions{})
		return err == nil
	}
	return false
}

// service returns the Service a host name denotes, or nil.
func (t *translator) service(host string) *corev1.Service {
	parts := strings.Split(strings.TrimSuffix(host, ".cluster.local"), ".")
	var name, ns string
	switch {
	case len(parts) == 1:
		name, ns = parts[0], t.pod.Namespace
	case len(parts) == 2:
		name, ns = parts[0], parts[1]
	case len(parts) == 3 && parts[2] == "svc":
		name, ns = parts[0], parts[1]
	default:
		return nil
	}
	o, ok, err := t.k.svcs.GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	return o.(*corev1.Service)
}

// endpoint picks a ready endpoint of svc and maps the Service port.
func (k *kubelet) endpoint(svc *corev1.Service, port string) (string, int, error) {
	var portName string
	want := 0
	if port != "" {
		n, _ := strconv.Atoi(port)
		want = n
		for _, sp := range svc.Spec.Ports {
			if int(sp.Port) == n {
				portName = sp.Name
			}
		}
	}
	objs, _ := k.slices.ByIndex(cache.NamespaceIndex, svc.Namespace)
	for _, o := range objs {
		s := o.(*discoveryv1.EndpointSlice)
		if s.Labels[discoveryv1.LabelServiceName] != svc.Name || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
				continue
			}
			p := want
			for _, sp := range s.Ports {
				if sp.Port != nil && sp.Name != nil && *sp.Name == portName {
					p = int(*sp.Port)
				}
			}
			return ep.Addresses[0], p, nil
		}
	}
	return "", 0, fmt.Errorf("Service %s/%s has no ready endpoint yet (the lab has no cluster DNS: the process kubelet resolves Service names to endpoints)", svc.Namespace, svc.Name)
}

// launchInput is what a launcher sees of a container.
type launchInput struct {
	pod  *corev1.Pod
	c    corev1.Container
	ip   string
	dir  string
	args []string // command + args, translated
	env  map[string]string
}

type launcher func(l *Lab, in launchInput) (procSpec, error)

// launcherFor maps an image to the host binary standing in for it.
func launcherFor(image string) (launcher, bool) {
	repo := image
	if i := strings.LastIndex(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	repo = strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "library/")
	switch {
	case repo == "ghcr.io/kubedojo/dojo":
		return launchDojo, true
	case repo == "redis" || strings.HasSuffix(repo, "/redis"):
		return launchRedis, true
	case strings.HasSuffix(repo, "/redis_exporter"):
		return launchRedisExporter, true
	case strings.HasSuffix(repo, "prometheus/prometheus"):
		return launchPrometheus, true
	case strings.HasSuffix(repo, "prometheus-adapter/prometheus-adapter") || strings.HasSuffix(repo, "/k8s-prometheus-adapter"):
		return launchAdapter, true
	case repo == "traefik" || strings.HasSuffix(repo, "/traefik"):
		return launchIngressStandIn, true // ingress_standin.go
	}
	return nil, false
}

// stripCommand drops a leading command name (the image's entrypoint).
func stripCommand(args []string, names ...string) []string {
	if len(args) > 0 {
		for _, n := range names {
			if path.Base(args[0]) == n {
				return args[1:]
			}
		}
	}
	return args
}

func firstPort(c corev1.Container, def int32) int32 {
	if len(c.Ports) > 0 {
		return c.Ports[0].ContainerPort
	}
	return def
}

// ghcr.io/kubedojo/dojo → the dojo binary built from this repository.
func launchDojo(l *Lab, in launchInput) (procSpec, error) {
	return procSpec{path: l.bins.dojo, args: stripCommand(in.args, "dojo")}, nil
}

// redis:* → redis-server, bound to the pod's address, its files in the
// chart's --dir (its volume's directory) or else the pod's directory.
func launchRedis(l *Lab, in launchInput) (procSpec, error) {
	args := stripCommand(in.args, "redis-server", "docker-entrypoint.sh")
	args = stripCommand(args, "redis-server")
	args = append(args, "--bind", in.ip, "--port", strconv.Itoa(int(firstPort(in.c, 6379))),
		"--protected-mode", "no", "--daemonize", "no")
	if !slices.Contains(args, "--dir") { // the chart's --dir is translated to its volume
		args = append(args, "--dir", in.dir)
	}
	return procSpec{path: l.bins.redis, args: args}, nil
}

// oliver006/redis_exporter → Debian's prometheus-redis-exporter; the chart's
// env (REDIS_ADDR, REDIS_EXPORTER_*) is passed as is (translated).
func launchRedisExporter(l *Lab, in launchInput) (procSpec, error) {
	args := stripCommand(in.args, "redis_exporter")
	args = append(args, "-web.listen-address="+in.ip+":"+strconv.Itoa(int(firstPort(in.c, 9121))))
	return procSpec{path: l.bins.redisExporter, args: args}, nil
}

// quay.io/prometheus/prometheus → Debian's prometheus; the operator
// stand-in's StatefulSet passes the flags (with its config on a hostPath).
func launchPrometheus(l *Lab, in launchInput) (procSpec, error) {
	return procSpec{path: l.bins.prometheus, args: stripCommand(in.args, "prometheus")}, nil
}

// prometheus-adapter → the adapter built from tools/adapter. Its in-cluster
// credentials (a service-account token at a fixed path) are replaced by the
// lab's kubeconfig, and it listens on the pod's address.
func launchAdapter(l *Lab, in launchInput) (procSpec, error) {
	args := stripCommand(in.args, "adapter", "/adapter")
	hasCertDir := false
	for i, a := range args {
		if strings.HasPrefix(a, "--cert-dir=") && strings.HasPrefix(a, "--cert-dir=/") && !strings.HasPrefix(a, "--cert-dir="+l.dir) {
			args[i] = "--cert-dir=" + filepath.Join(in.dir, "cert")
		}
		hasCertDir = hasCertDir || strings.HasPrefix(a, "--cert-dir=")
	}
	if !hasCertDir {
		args = append(args, "--cert-dir="+filepath.Join(in.dir, "cert"))
	}
	args = append(args, "--bind-address="+in.ip,
		"--lister-kubeconfig="+l.kubeconfig,
		"--authentication-kubeconfig="+l.kubeconfig,
		"--authorization-kubeconfig="+l.kubeconfig)
	return procSpec{path: l.bins.adapter, args: args}, nil
}
