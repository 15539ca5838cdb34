package diagnose

// Report is what dojo diagnose says of one HPA: the numbers as the cluster
// holds them, then findings, anomalies first.
type Report struct {
	HPA           string `json:"hpa"`
	ServerVersion string `json:"serverVersion"`
	// Architecture is the CPU the HPA controller runs on ("" unknown);
	// ArchitectureFrom says how dojo knows.
	Architecture     string      `json:"architecture"`
	ArchitectureFrom string      `json:"architectureFrom"`
	Nodes            []Node      `json:"nodes"`
	Target           TargetView  `json:"target"`
	MinReplicas      int32       `json:"minReplicas"`
	MaxReplicas      int32       `json:"maxReplicas"`
	CurrentReplicas  int32       `json:"currentReplicas"`
	DesiredReplicas  int32       `json:"desiredReplicas"`
	Controller       Timing      `json:"controller"`
	Metrics          []Metric    `json:"metrics"`
	Conditions       []Condition `json:"conditions"`
	Findings         []Finding   `json:"findings"`
}

// TargetView is the scale target as the report shows it.
type TargetView struct {
	Kind           string `json:"kind"`
	Name           string `json:"name"`
	Found          bool   `json:"found"`
	SpecReplicas   int32  `json:"specReplicas"`
	StatusReplicas int32  `json:"statusReplicas"`
	Error          string `json:"error,omitempty"`
}

// Timing is the controller's sync period and downscale stabilization window
// and where they come from.
type Timing struct {
	SyncPeriod             string `json:"syncPeriod"`
	DownscaleStabilization string `json:"downscaleStabilization"`
	// From: "kube-controller-manager flags", or "Kubernetes defaults (the
	// controller's flags could not be read)".
	From string `json:"from"`
}

// Metric is one metric of the HPA's spec with its status.
type Metric struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Object is the described object of an Object metric ("Service
	// prometheus-redis-exporter").
	Object string `json:"describedObject,omitempty"`
	// Target is the spec's target ("AverageValue 20").
	Target string `json:"target"`
	// Current is the autoscaling/v2 status ("averageValue -9223372036854775808m"),
	// CurrentV1 the same metric in the autoscaling/v1 annotation; "" when absent.
	Current   string `json:"current"`
	CurrentV1 string `json:"currentV1"`
	// Path is the calculator function the controller takes, Divides
	// whether it divides by the target's replicas, Refused whether it
	// refuses the target instead.
	Path    string `json:"path,omitempty"`
	Divides bool   `json:"dividesByReplicas"`
	Refused bool   `json:"refused"`
	// Anomaly names a value no measurement gives: "min-int64",
	// "max-int64", "nan-zero"; "" for none.
	Anomaly string `json:"anomaly,omitempty"`
}

// Condition is one condition of the HPA's status.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Severities of a finding.
const (
	Anomaly = "anomaly" // a number no measurement gives
	Problem = "problem" // something stops or limits scaling
	Note    = "note"    // worth knowing, nothing to do
)

// Finding is one explanation.
type Finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Explain is the explanation, a paragraph per entry.
	Explain []string `json:"explain"`
	Source  *Source  `json:"source,omitempty"`
	Next    string   `json:"next,omitempty"`
}

// Source points at the controller's code behind a finding.
type Source struct {
	Function string `json:"function"`
	File     string `json:"file"`
	// Line is 0 when the cluster's release is not in dojo's table; Note
	// then says so.
	Line      int    `json:"line,omitempty"`
	Version   string `json:"version"`
	URL       string `json:"url"`
	Statement string `json:"statement"`
	Note      string `json:"note,omitempty"`
	Issue     string `json:"issue"`
	Workshop  string `json:"workshop"`
}
