package helm

import "context"

// Deployed is what dojo reads back from a release's newest record: enough for
// a check to judge it and for a diff to compare its values.
type Deployed struct {
	Name      string
	Namespace string
	Revision  int
	// Status is Helm's ("deployed", "failed", "pending-install", …).
	Status string
	// Chart and Version name the chart the release was made from.
	Chart   string
	Version string
	// Values are the values the learner gave (not the chart's defaults).
	Values map[string]any
	// Manifest is what the release rendered.
	Manifest string
	// Description is Helm's note on the last action (its error on a failure).
	Description string
}

// Last reads the newest revision of release name in ns; nil when there is
// none. It changes nothing.
func (d *Installer) Last(_ context.Context, name, ns string) (*Deployed, error) {
	cfg, err := d.newConfig(ns)
	if err != nil {
		return nil, err
	}
	r, err := lastRelease(cfg, name)
	if err != nil || r == nil {
		return nil, err
	}
	out := &Deployed{Name: r.Name, Namespace: r.Namespace, Revision: r.Version, Values: r.Config, Manifest: r.Manifest}
	if r.Info != nil {
		out.Status = string(r.Info.Status)
		out.Description = r.Info.Description
	}
	if r.Chart != nil && r.Chart.Metadata != nil {
		out.Chart, out.Version = r.Chart.Metadata.Name, r.Chart.Metadata.Version
	}
	return out, nil
}
