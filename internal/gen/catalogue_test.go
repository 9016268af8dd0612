package gen

import (
	"reflect"
	"testing"
	"time"
)

// TestCatalogueNeedsNoEscaping walks every table the generator writes
// strings from: appendStr writes them without escaping, so none may hold a
// quote, a backslash or a control character.
func TestCatalogueNeedsNoEscaping(t *testing.T) {
	tables := map[string]any{
		"channelNames": channelNames, "sources": sources, "activityNames": activityNames, "typeNames": typeNames,
		"platformNames": platformNames, "acqNames": acqNames, "acqMedium": acqMedium, "campaigns": campaigns,
		"locales": locales, "products": products, "deviceModels": deviceModels, "pages": pages,
		"categoryPaths": categoryPaths, "callReasons": callReasons, "loopReasons": loopReasons, "chatTopics": chatTopics,
		"carriers": carriers, "shipMethods": shipMethods, "payMethods": payMethods, "refundReasons": refundReasons,
		"signupMethods": signupMethods, "cancelReasons": cancelReasons, "companies": companies, "industries": industries,
		"ips": ips, "stepNames": stepNames, "constants": []string{appName, serverLib, serverLibVer, webHost},
	}
	n := 0
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			n++
			if needsEscape(v.String()) {
				t.Errorf("%s = %q needs escaping", path, v.String())
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(path+"[]", v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(path+".key", k)
				walk(path+"["+k.String()+"]", v.MapIndex(k))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		}
	}
	for name, tab := range tables {
		walk(name, reflect.ValueOf(tab))
	}
	if n < 1000 {
		t.Errorf("walked only %d strings", n)
	}
	for _, r := range referrers() {
		if needsEscape(r) {
			t.Errorf("referrer %q needs escaping", r)
		}
	}
}

func referrers() []string {
	var out []string
	for _, cs := range campaigns {
		for i := range cs {
			out = append(out, referrerOf(&cs[i]))
		}
	}
	return out
}

func TestAppendTimeMatchesTheTimePackage(t *testing.T) {
	w := newWorker(&plan{})
	for _, ms := range []int64{0, 1, 999, 86_399_999, 86_400_000, -1, -86_400_001, 951_782_400_000, 1_735_689_599_999,
		4_102_444_800_000, 253_402_300_799_999, 253_402_300_800_000, -62_135_596_800_000, -62_135_596_800_001} {
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		if got := string(appendTime(nil, ms)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", ms, got, want)
		}
		// Twice, so the cached day is used the second time.
		for range 2 {
			if got := string(w.appendTime(nil, ms)); got != want {
				t.Errorf("worker appendTime(%d) = %s, want %s", ms, got, want)
			}
		}
	}
}
