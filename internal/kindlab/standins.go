package kindlab

import (
	"archive/tar"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/kubedojo/dojo/internal/lab"
	"github.com/kubedojo/dojo/internal/workshop"
)

// ChartRepoAddr is where ServeCharts serves, on the namespace's loopback.
const ChartRepoAddr = "127.0.0.1:8879"

// ServeCharts serves the upstream charts' stand-ins (internal/lab/charts) as
// a chart repository on ChartRepoAddr, for dojo up and dojo solve's
// --chart-repo: the upstream repositories are unreachable here.
// kube-prometheus-stack's renders what upstream renders for the real
// operator, with the operator module's real CRDs (make crds).
func (e *Env) ServeCharts() (*lab.StandInRepo, error) {
	return lab.ServeStandInCharts(filepath.Join(e.Dir, "charts"), ChartRepoAddr,
		lab.StandInOptions{RealCluster: true, CRDDir: filepath.Join(e.root, ".cache", "promop", "crds")})
}

// TraefikTag is the image tag the Traefik chart 41.3.0 (and its stand-in)
// runs: the stand-in's appVersion.
func TraefikTag() (string, error) {
	data, err := fs.ReadFile(lab.StandInChartFiles(), "charts/traefik/Chart.yaml")
	if err != nil {
		return "", err
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil || meta.AppVersion == "" {
		return "", fmt.Errorf("the Traefik stand-in's appVersion: %v", err)
	}
	return meta.AppVersion, nil
}

// ControlPlaneNode is the node container of dojo's kind cluster.
const ControlPlaneNode = workshop.ClusterName + "-control-plane"

// LoadIngressStandIn packages the lab's INGRESS STAND-IN
// (internal/lab/cmd/ingress-standin, which mk/kind.mk builds) as an image
// under Traefik's name, labelled io.kubedojo.stand-in=traefik, and loads it
// into the node's containerd as `kind load` does: Traefik's own image cannot
// be had offline. The node must exist.
func (e *Env) LoadIngressStandIn(ctx context.Context) error {
	tag, err := TraefikTag()
	if err != nil {
		return err
	}
	bin := filepath.Join(e.root, ".cache", "kind", "bin", "ingress-standin")
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("the ingress stand-in (make kind-tools builds it): %w", err)
	}
	rootfs := filepath.Join(e.Dir, "ingress-standin-rootfs.tar")
	if err := writeOneFileTar(rootfs, "ingress-standin", data); err != nil {
		return err
	}
	image := "docker.io/traefik:" + tag
	if _, err := e.Docker.Run(ctx, "import", "-c", `ENTRYPOINT ["/ingress-standin"]`, "-c", "LABEL io.kubedojo.stand-in=traefik",
		rootfs, image); err != nil {
		return err
	}
	archive := filepath.Join(e.Dir, "ingress-standin-image.tar")
	if _, err := e.Docker.Run(ctx, "save", image, "-o", archive); err != nil {
		return err
	}
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer in.Close()
	imp := e.Docker.Command(ctx, "exec", "-i", ControlPlaneNode,
		"ctr", "--namespace=k8s.io", "images", "import", "--digests", "--snapshotter=overlayfs", "-")
	imp.Stdin = in
	if out, err := imp.CombinedOutput(); err != nil {
		return fmt.Errorf("loading %s into the node: %v\n%s", image, err, out)
	}
	e.logf("kindlab: loaded the ingress stand-in into the node as %s", image)
	return nil
}

func writeOneFileTar(path, name string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
		f.Close()
		return err
	}
	if _, err := tw.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
