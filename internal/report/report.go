// Package report is how domain code tells the learner what it is doing while
// it works: it starts tasks, updates and ends them, and warns. ui.Progress
// draws them (one spinner line on a terminal, plain lines in a log);
// Discard draws nothing. Domain packages take a Progress, never a ui type.
package report

// Progress starts tasks and prints warnings without tearing their lines.
type Progress interface {
	Start(name string) Task
	// Warn prints one warning now, in the one warning format.
	Warn(msg string)
}

// Task is one piece of work in progress.
type Task interface {
	// Status updates the detail shown beside the task.
	Status(msg string)
	// Done ends the task, successfully when err is nil.
	Done(err error)
}

// Phase runs fn as one task of p and ends it with fn's error.
func Phase[T any](p Progress, name string, fn func(Task) (T, error)) (T, error) {
	t := p.Start(name)
	v, err := fn(t)
	t.Done(err)
	return v, err
}

// Discard is a Progress that shows nothing.
type Discard struct{}

// Start implements Progress.
func (Discard) Start(string) Task { return discardTask{} }

// Warn implements Progress.
func (Discard) Warn(string) {}

type discardTask struct{}

func (discardTask) Status(string) {}
func (discardTask) Done(error)    {}
