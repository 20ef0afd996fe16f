// Package app is the Teleread reading workstation: the Fyne GUI with its worklist,
// viewer, report panel, settings dialog and status bar. It is the only package that
// imports Fyne. Domain events (sync progress, online state, outbox counts) reach the
// UI through one adapter, bridge.go, which hands them to the UI goroutine with
// fyne.Do; rendering runs on goroutines of its own and never on the UI goroutine.
//
// Mouse and keyboard follow what Weasis, OHIF and RadiAnt users already know; the
// full list is in Shortcuts (shown in the app's help, F1).
package app
