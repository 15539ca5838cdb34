package ui

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles is the only place lipgloss styles are defined. Every renderer takes
// one; with colour off every style renders its text unchanged.
type Styles struct {
	Title   lipgloss.Style
	Heading lipgloss.Style
	Muted   lipgloss.Style
	Code    lipgloss.Style
	Pass    lipgloss.Style
	Fail    lipgloss.Style
	Warn    lipgloss.Style
	Pending lipgloss.Style
	Accent  lipgloss.Style
	Bold    lipgloss.Style
}

// The marks of a result, defined once: passed, failed, a warning.
const (
	GlyphPass = "✓"
	GlyphFail = "✗"
	GlyphWarn = "!"
)

// PassMark, FailMark and WarnMark are the marks in their colours.
func (s Styles) PassMark() string { return s.Pass.Render(GlyphPass) }

// FailMark: see PassMark.
func (s Styles) FailMark() string { return s.Fail.Render(GlyphFail) }

// WarnMark: see PassMark.
func (s Styles) WarnMark() string { return s.Warn.Render(GlyphWarn) }

// NewStyles builds the styles, coloured or plain.
func NewStyles(color bool) Styles {
	r := lipgloss.NewRenderer(io.Discard)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	s := func() lipgloss.Style { return r.NewStyle() }
	return Styles{
		Title:   s().Bold(true).Foreground(lipgloss.Color("39")),
		Heading: s().Bold(true),
		Muted:   s().Foreground(lipgloss.Color("245")),
		Code:    s().Foreground(lipgloss.Color("214")),
		Pass:    s().Foreground(lipgloss.Color("42")),
		Fail:    s().Foreground(lipgloss.Color("203")),
		Warn:    s().Foreground(lipgloss.Color("220")),
		Pending: s().Foreground(lipgloss.Color("245")),
		Accent:  s().Foreground(lipgloss.Color("39")),
		Bold:    s().Bold(true),
	}
}
