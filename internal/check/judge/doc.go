// Package judge holds the pure judges of dojo check: observations in,
// check.Result out; no judge reads the cluster.
package judge
