package lab

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/kubedojo/dojo/internal/workshop"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// NodeName is the one Node of the lab; the process kubelet binds every Pod
// it runs to it.
const NodeName = "lab-node"

func (l *Lab) env() []string {
	// Components get a clean, minimal environment: nothing of the caller's
	// proxies or kubeconfig leaks in.
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + l.dir}
}

func (l *Lab) startControlPlane(ctx context.Context) error {
	logs := filepath.Join(l.dir, "logs")
	etcdIP, err := l.allocIP(false)
	if err != nil {
		return err
	}
	apiIP, err := l.allocIP(false)
	if err != nil {
		return err
	}
	cmIP, err := l.allocIP(false)
	if err != nil {
		return err
	}
	if l.pki, err = newPKI(filepath.Join(l.dir, "pki"), []net.IP{net.ParseIP(apiIP)}); err != nil {
		return fmt.Errorf("PKI: %w", err)
	}

	// etcd
	client := "http://" + etcdIP + ":2379"
	peer := "http://" + etcdIP + ":2380"
	etcd, err := startProcess(logs, "etcd", l.bins.etcd, []string{
		"--name=lab", "--data-dir=" + filepath.Join(l.dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=lab=" + peer, "--listen-metrics-urls=http://" + etcdIP + ":2381",
		"--quota-backend-bytes=1073741824", "--log-level=warn",
	}, l.env(), l.dir)
	if err != nil {
		return err
	}
	l.procs.add(etcd)
	l.setAddr(Etcd, etcdIP+":2379")
	if err := waitFor(ctx, etcd, 20*time.Second, httpOK(http.DefaultClient, client+"/health")); err != nil {
		return err
	}

	// kube-apiserver
	apiAddr := apiIP + ":6443"
	p := l.pki
	api, err := startProcess(logs, "kube-apiserver", l.bins.apiserver, []string{
		"--etcd-servers=" + client,
		"--bind-address=" + apiIP, "--secure-port=6443", "--advertise-address=" + apiIP,
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + p.APIServerCert, "--tls-private-key-file=" + p.APIServerKey,
		"--client-ca-file=" + p.CACert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.SAPub, "--service-account-signing-key-file=" + p.SAKey,
		"--authorization-mode=RBAC", "--token-auth-file=" + p.TokenFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--requestheader-client-ca-file=" + p.FrontProxyCA,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p.FrontProxyClient, "--proxy-client-key-file=" + p.FrontProxyKey,
		// No kube-proxy: the aggregator routes to the APIService's endpoint
		// (the adapter's pod address), not to its ClusterIP.
		"--enable-aggregator-routing=true",
		"--feature-gates=HPAScaleToZero=true",
		"--cert-dir=" + filepath.Join(l.dir, "apiserver"),
		"--profiling=false", "--v=1",
	}, l.env(), l.dir)
	if err != nil {
		return err
	}
	l.procs.add(api)
	l.setAddr(APIServer, apiAddr)
	if err := l.writeKubeconfig("https://" + apiAddr); err != nil {
		return err
	}
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: mustPool(p.CAPEM)}}}
	if err := waitFor(ctx, api, 60*time.Second, func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+apiAddr+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+p.Token)
		return doOK(tlsClient, req)
	}); err != nil {
		return err
	}

	// kube-controller-manager
	l.cmArgs = []string{
		"--kubeconfig=" + l.kubeconfig,
		"--authentication-kubeconfig=" + l.kubeconfig, "--authorization-kubeconfig=" + l.kubeconfig,
		"--bind-address=" + cmIP, "--secure-port=10257",
		"--cert-dir=" + filepath.Join(l.dir, "controller-manager"),
		"--leader-elect=false",
		"--controllers=horizontalpodautoscaling,deployment,replicaset,statefulset,serviceaccount,endpointslice,garbagecollector",
		"--horizontal-pod-autoscaler-sync-period=" + l.opts.HPASyncPeriod.String(),
		"--horizontal-pod-autoscaler-downscale-stabilization=" + l.opts.DownscaleStabilization.String(),
		"--feature-gates=HPAScaleToZero=true",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--profiling=false", "--v=1",
	}
	cm, err := startProcess(logs, "kube-controller-manager", l.bins.controllerManager, l.cmArgs, l.env(), l.dir)
	if err != nil {
		return err
	}
	l.procs.add(cm)
	l.setAddr(ControllerManager, cmIP+":10257")
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // its self-signed serving cert, inside the lab namespace
	return waitFor(ctx, cm, 60*time.Second, httpOK(insecure, "https://"+cmIP+":10257/healthz"))
}

func (l *Lab) writeKubeconfig(server string) error {
	path := filepath.Join(l.dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: %s
  context: {cluster: lab, user: admin, namespace: default}
current-context: %[4]s
`, server, l.pki.CACert, l.pki.Token, workshop.DefaultContext) // a laptop's context: dojo commands run with their default flags
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		return err
	}
	l.kubeconfig = path
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 100, 200
	l.restConfig = cfg
	if l.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	l.dynamic, err = dynamic.NewForConfig(cfg)
	return err
}

// registerNode creates the lab's Node (Ready) and waits for the default
// ServiceAccount, which Pods need.
func (l *Lab) registerNode(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: NodeName, Labels: map[string]string{
			// The labels a kind node's kubelet sets (dojo diagnose reads the arch).
			"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": runtime.GOARCH,
			"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": runtime.GOARCH,
			"ingress-ready": "true", "dojo.kubedojo.dev/lab": "process-kubelet",
		}},
	}
	created, err := l.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err == nil {
		now := metav1.Now()
		created.Status = corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				Message: "process kubelet (lab stand-in) is ready", LastHeartbeatTime: now, LastTransitionTime: now}},
			Capacity:    corev1.ResourceList{corev1.ResourcePods: mustQuantity("250")},
			Allocatable: corev1.ResourceList{corev1.ResourcePods: mustQuantity("250")},
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: runtime.GOARCH},
		}
		if _, err := l.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return waitFor(ctx, nil, 30*time.Second, func(ctx context.Context) error {
		_, err := l.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// mirrorControllerManager makes the Pod a kind cluster shows for its
// kube-controller-manager (kubeadm's static pod, labelled
// component=kube-controller-manager, on the node, with the flags in its
// command), describing the lab's process: dojo diagnose and dojo watch read
// the HPA's sync period and stabilization window there. A stand-in: its
// image is one the process kubelet does not know, so nothing runs it and it
// stays Pending.
func (l *Lab) mirrorControllerManager(ctx context.Context) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-controller-manager-" + NodeName,
			Labels:      map[string]string{"component": "kube-controller-manager", "tier": "control-plane", "dojo.kubedojo.dev/lab": "stand-in"},
			Annotations: map[string]string{"dojo.kubedojo.dev/stand-in": "describes the lab's kube-controller-manager process; nothing runs this pod"}},
		Spec: corev1.PodSpec{NodeName: NodeName, Containers: []corev1.Container{{
			Name: "kube-controller-manager", Image: "registry.k8s.io/kube-controller-manager:v1.37.2",
			Command: append([]string{"kube-controller-manager"}, l.cmArgs...),
		}}},
	}
	_, err := l.client.CoreV1().Pods("kube-system").Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func httpOK(c *http.Client, url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		return doOK(c, req)
	}
}

func doOK(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	return nil
}

func mustPool(pemData []byte) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	return pool
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
