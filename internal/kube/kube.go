// Package kube is dojo's one way into a Kubernetes API server: an Access
// pinned to one kubeconfig and one context, never the user's current-context
// unless that is what was asked for. It feeds client-go (Clientset) and Helm
// (it is a genericclioptions.RESTClientGetter).
package kube

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Access reaches one cluster through one context of one kubeconfig. It is
// safe for concurrent use. Values are cheap: ForNamespace shares the parsed
// kubeconfig.
type Access struct {
	raw       *clientcmdapi.Config
	context   string
	namespace string

	once      sync.Once
	restCfg   *rest.Config
	restErr   error
	discOnce  sync.Once
	disc      discovery.CachedDiscoveryInterface
	discErr   error
	mapOnce   sync.Once
	mapper    meta.RESTMapper
	clientMu  sync.Mutex
	clientset kubernetes.Interface
	dynamic   dynamic.Interface
}

var _ genericclioptions.RESTClientGetter = (*Access)(nil)

// FromKubeconfig parses kubeconfig bytes (for example what kind returns for
// a cluster) and pins the named context ("" = the file's current-context).
func FromKubeconfig(data []byte, context string) (*Access, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	return newAccess(raw, context, "the kubeconfig kind returned")
}

// FromFile loads a kubeconfig the way kubectl does and pins the named context
// ("" = the current-context): path when set, else the files of env (the value
// of $KUBECONFIG, a list), else ~/.kube/config.
func FromFile(path, env, context string) (*Access, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	if env != "" {
		rules.Precedence = filepath.SplitList(env)
	} else {
		rules.Precedence = []string{clientcmd.RecommendedHomeFile}
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	read := path
	if read == "" {
		read = strings.Join(rules.Precedence, string(filepath.ListSeparator))
	}
	return newAccess(raw, context, "kubeconfig "+read)
}

func newAccess(raw *clientcmdapi.Config, context, source string) (*Access, error) {
	if context == "" {
		context = raw.CurrentContext
	}
	if context == "" {
		return nil, fmt.Errorf("%s has no current context: name one with --context", source)
	}
	if _, ok := raw.Contexts[context]; !ok {
		var have []string
		for name := range raw.Contexts {
			have = append(have, name)
		}
		sort.Strings(have)
		return nil, &NoContextError{Context: context, Source: source, Have: have}
	}
	return &Access{raw: raw, context: context}, nil
}

// NoContextError is a context the kubeconfig does not have.
type NoContextError struct {
	Context string
	Source  string   // what was read ("kubeconfig /home/x/.kube/config")
	Have    []string // the contexts it has
}

func (e *NoContextError) Error() string {
	have := "none"
	if len(e.Have) > 0 {
		have = strings.Join(e.Have, ", ")
	}
	return fmt.Sprintf("%s has no context %q (it has: %s): create the cluster with dojo up, or name one of those with --context", e.Source, e.Context, have)
}

// Context is the kubeconfig context this Access is pinned to.
func (a *Access) Context() string { return a.context }

// Namespace is the namespace Helm and namespaced requests default to ("" =
// the context's namespace, else default).
func (a *Access) Namespace() string { return a.namespace }

// ForNamespace returns an Access to the same cluster whose default namespace
// is ns. It has its own discovery cache (Helm invalidates it per action).
func (a *Access) ForNamespace(ns string) *Access {
	return &Access{raw: a.raw, context: a.context, namespace: ns}
}

func (a *Access) clientConfig() clientcmd.ClientConfig {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: a.context}
	if a.namespace != "" {
		overrides.Context.Namespace = a.namespace
	}
	return clientcmd.NewNonInteractiveClientConfig(*a.raw, a.context, overrides, nil)
}

// ToRawKubeConfigLoader implements genericclioptions.RESTClientGetter.
func (a *Access) ToRawKubeConfigLoader() clientcmd.ClientConfig { return a.clientConfig() }

// ToRESTConfig implements genericclioptions.RESTClientGetter.
func (a *Access) ToRESTConfig() (*rest.Config, error) {
	a.once.Do(func() {
		cfg, err := a.clientConfig().ClientConfig()
		if err != nil {
			a.restErr = fmt.Errorf("context %s: %w", a.context, err)
			return
		}
		// Helm applies many objects and waits on them; the client-go
		// defaults (5 QPS) would throttle a fresh install.
		cfg.QPS, cfg.Burst = 50, 100
		a.restCfg = cfg
	})
	if a.restErr != nil {
		return nil, a.restErr
	}
	return rest.CopyConfig(a.restCfg), nil
}

// ToDiscoveryClient implements genericclioptions.RESTClientGetter.
func (a *Access) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	a.discOnce.Do(func() {
		cfg, err := a.ToRESTConfig()
		if err != nil {
			a.discErr = err
			return
		}
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			a.discErr = err
			return
		}
		a.disc = memory.NewMemCacheClient(dc)
	})
	return a.disc, a.discErr
}

// ToRESTMapper implements genericclioptions.RESTClientGetter.
func (a *Access) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := a.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	a.mapOnce.Do(func() {
		m := restmapper.NewDeferredDiscoveryRESTMapper(dc)
		a.mapper = restmapper.NewShortcutExpander(m, dc, nil)
	})
	return a.mapper, nil
}

// Clientset returns a typed client for this context.
func (a *Access) Clientset() (kubernetes.Interface, error) {
	a.clientMu.Lock()
	defer a.clientMu.Unlock()
	if a.clientset != nil {
		return a.clientset, nil
	}
	cfg, err := a.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	a.clientset = cs
	return cs, nil
}

// Dynamic returns a dynamic client for this context (custom resources and
// objects read by their GroupVersionResource).
func (a *Access) Dynamic() (dynamic.Interface, error) {
	a.clientMu.Lock()
	defer a.clientMu.Unlock()
	if a.dynamic != nil {
		return a.dynamic, nil
	}
	cfg, err := a.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	a.dynamic = d
	return d, nil
}

// Server is the API server URL of the pinned context.
func (a *Access) Server() string {
	ctx := a.raw.Contexts[a.context]
	if ctx == nil {
		return ""
	}
	if c := a.raw.Clusters[ctx.Cluster]; c != nil {
		return c.Server
	}
	return ""
}

// WaitReady polls the API server's /readyz until it answers ok, ctx ends or
// timeout passes.
func (a *Access) WaitReady(ctx context.Context, timeout time.Duration) error {
	cs, err := a.Clientset()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && strings.TrimSpace(string(body)) == "ok" {
			return nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("/readyz: %s", strings.TrimSpace(string(body)))
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("the API server at %s is not ready: %w", a.Server(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
