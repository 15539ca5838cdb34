package helm

import (
	"fmt"
	"path"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/engine"
)

// Render renders a chart offline, as `helm template` would, with some
// templates replaced or added (Overrides maps a path inside the chart,
// "templates/x.yaml", to its text) and extra API versions the templates may
// test with .Capabilities.APIVersions.Has. It returns the rendered text of
// each template by its path inside the chart.
type Render struct {
	Source      Source
	Overrides   map[string][]byte
	Values      map[string]any
	Release     string
	Namespace   string
	APIVersions []string
}

// Templates renders r.
func (r Render) Templates() (map[string]string, error) {
	ch, err := loadLocal(r.Source)
	if err != nil {
		return nil, err
	}
	for p, data := range r.Overrides {
		replaced := false
		for _, t := range ch.Templates {
			if t.Name == p {
				t.Data, replaced = data, true
			}
		}
		if !replaced {
			ch.Templates = append(ch.Templates, &common.File{Name: p, Data: data})
		}
	}
	caps := common.DefaultCapabilities.Copy()
	caps.APIVersions = append(caps.APIVersions, r.APIVersions...)
	vals, err := util.ToRenderValues(ch, r.Values, common.ReleaseOptions{Name: r.Release, Namespace: r.Namespace, IsUpgrade: true, Revision: 1}, caps)
	if err != nil {
		return nil, fmt.Errorf("values of chart %s: %w", ch.Name(), err)
	}
	out, err := engine.Render(ch, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", ch.Name(), err)
	}
	// The engine names each output "<chart>/templates/x.yaml".
	res := map[string]string{}
	for k, v := range out {
		_, rest, _ := strings.Cut(k, "/")
		if path.Base(rest)[0] == '_' || strings.TrimSpace(v) == "" {
			continue
		}
		res[rest] = v
	}
	return res, nil
}
