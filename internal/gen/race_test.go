//go:build race

package gen_test

// raceDetector is true under -race, which makes encoding/json nine times
// slower: the tests that read whole generations read smaller ones then.
const raceDetector = true
