package gen

import (
	"fmt"
	"strings"
)

// Channels, in DESIGN.md's order. The generator uses all but "other".
const (
	chWeb uint8 = iota
	chMobile
	chCallCentre
	chStore
	chEmail
	chAds
	chSocial
	chChat
	chPartner
	chCRM
	chOther
	nChannels
)

var channelNames = [nChannels]string{"web", "mobile", "call_centre", "store", "email", "ads", "social", "chat", "partner", "crm", "other"}

// Source is one of the sources the generated events come from. Generate
// sets Event.SourceID to a Source's ID; a caller writing into a data
// directory creates these sources first (or maps the IDs to its own).
type Source struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Channel string `json:"channel"`
}

// sources holds one source per channel, indexed like channelNames.
var sources = [nChannels]Source{
	{"gen-web", "Web shop (analytics.js)", "web"},
	{"gen-app", "Shop app (iOS and Android)", "mobile"},
	{"gen-callcentre", "Call centre telephony", "call_centre"},
	{"gen-pos", "Store point of sale", "store"},
	{"gen-email", "Email service provider", "email"},
	{"gen-ads", "Search and display ads", "ads"},
	{"gen-social", "Social ads and content", "social"},
	{"gen-chat", "Chat widget", "chat"},
	{"gen-logistics", "Carrier and pickup partner", "partner"},
	{"gen-crm", "CRM and billing", "crm"},
	{"gen-other", "Other", "other"},
}

// Sources lists the sources the generator attributes events to, one per
// channel.
func Sources() []Source {
	return append([]Source(nil), sources[:chOther]...)
}

// Activities: the names analytics count events by (event.Event.Activity).
const (
	nPageViewed uint8 = iota
	nScreenViewed
	nIdentify
	nGroup
	nAlias
	nAdClicked
	nVideoPlaybackStarted
	nEmailOpened
	nEmailLinkClicked
	nProductsSearched
	nProductViewed
	nProductAdded
	nCartViewed
	nCheckoutStarted
	nCheckoutStepCompleted
	nPaymentInfoEntered
	nOrderCompleted
	nOrderShipped
	nOrderDelivered
	nOrderRefunded
	nProductReviewed
	nSignedUp
	nSignedIn
	nCallStarted
	nCallEnded
	nChatStarted
	nStoreVisited
	nReferralSent
	nSurveyResponded
	nSubscriptionStarted
	nSubscriptionCancelled
	nNames
)

var activityNames = [nNames]string{
	"Page Viewed", "Screen Viewed", "Identify", "Group", "Alias",
	"Ad Clicked", "Video Playback Started", "Email Opened", "Email Link Clicked",
	"Products Searched", "Product Viewed", "Product Added", "Cart Viewed",
	"Checkout Started", "Checkout Step Completed", "Payment Info Entered", "Order Completed",
	"Order Shipped", "Order Delivered", "Order Refunded", "Product Reviewed",
	"Signed Up", "Signed In", "Call Started", "Call Ended", "Chat Started",
	"Store Visited", "Referral Sent", "Survey Responded",
	"Subscription Started", "Subscription Cancelled",
}

// Call types, indexed like the rec.typ field.
const (
	tTrack uint8 = iota
	tIdentify
	tPage
	tScreen
	tGroup
	tAlias
	nTypes
)

var typeNames = [nTypes]string{"track", "identify", "page", "screen", "group", "alias"}

// Platforms: the value of context.device.type, which the checkout effect
// keys on.
const (
	pWeb uint8 = iota
	pIOS
	pAndroid
	nPlatforms
)

var platformNames = [nPlatforms]string{"web", "ios", "android"}

// Acquisition channels: how a person first came, as context.campaign.medium
// says on the first event. "direct" is a customer whose first event has no
// campaign (a device used before it was ever linked, a loyalty card).
const (
	acqAds uint8 = iota
	acqSocial
	acqEmail
	acqSearch
	acqReferral
	acqDirect
	nAcq
)

var acqNames = [nAcq]string{"ads", "social", "email", "search", "referral", "direct"}

// acqMedium is the context.campaign.medium that marks each acquisition
// channel; FirstTouchChannel maps it back.
var acqMedium = [nAcq]string{"cpc", "paid_social", "email", "organic", "referral", ""}

// FirstTouchChannel maps a context.campaign.medium to the acquisition
// channel the truth file reports conversion by ("direct" when there is no
// campaign or the medium is unknown).
func FirstTouchChannel(medium string) string {
	for i, m := range acqMedium[:acqDirect] {
		if m == medium {
			return acqNames[i]
		}
	}
	return acqNames[acqDirect]
}

type campaign struct {
	source, medium, name, content string
}

// campaigns per acquisition channel.
var campaigns = [acqDirect][]campaign{
	acqAds: {
		{"google", "cpc", "spring_sale", "text_ad_a"},
		{"google", "cpc", "brand_search", "text_ad_b"},
		{"bing", "cpc", "spring_sale", "text_ad_a"},
		{"google", "cpc", "kids_rainwear", "shopping_ad"},
	},
	acqSocial: {
		{"instagram", "paid_social", "kids_rainwear", "reel_15s"},
		{"facebook", "paid_social", "spring_sale", "carousel"},
		{"tiktok", "paid_social", "brand_awareness", "creator_video"},
	},
	acqEmail: {
		{"newsletter", "email", "weekly_digest", "hero_banner"},
		{"newsletter", "email", "spring_sale", "cta_button"},
		{"crm", "email", "win_back", "coupon"},
	},
	acqSearch: {
		{"google", "organic", "", ""},
		{"bing", "organic", "", ""},
		{"duckduckgo", "organic", "", ""},
	},
	acqReferral: {
		{"friend", "referral", "refer_a_friend", "share_link"},
		{"parenting-blog.example", "referral", "gift_guide", "article_link"},
	},
}

// acqWeights: the share of people arriving through each channel.
var acqCum = cumulative(0.28, 0.24, 0.14, 0.22, 0.12)

type nameEntry struct{ display, ascii string }

type locale struct {
	tag, timezone, currency, country string
	tzOffsetMin                      int64
	phonePrefix                      string // E.164 country code and mobile prefix; 8 more digits follow
	first, last                      []nameEntry
	queries                          []string
	stores                           []store
	rate                             float64 // units of the currency per GBP
	decimals                         int
}

type store struct{ id, name, city string }

var locales = []locale{
	{
		tag: "en-GB", timezone: "Europe/London", currency: "GBP", country: "GB", tzOffsetMin: 0,
		phonePrefix: "+44 74", rate: 1, decimals: 2,
		first:   []nameEntry{{"Sarah", "sarah"}, {"James", "james"}, {"Olivia", "olivia"}, {"Harry", "harry"}, {"Amelia", "amelia"}, {"Jack", "jack"}, {"Priya", "priya"}, {"Mohammed", "mohammed"}},
		last:    []nameEntry{{"Mitchell", "mitchell"}, {"Smith", "smith"}, {"Jones", "jones"}, {"Taylor", "taylor"}, {"Brown", "brown"}, {"Khan", "khan"}, {"Evans", "evans"}},
		queries: []string{"kids rain jacket", "waterproof boots", "school shoes", "wellies size 12", "winter coat"},
		stores:  []store{{"st_gb_ldn1", "London Oxford Street", "London"}, {"st_gb_lds1", "Leeds Trinity", "Leeds"}, {"st_gb_man1", "Manchester Arndale", "Manchester"}},
	},
	{
		tag: "en-US", timezone: "America/New_York", currency: "USD", country: "US", tzOffsetMin: -300,
		rate: 1.27, decimals: 2,
		first:   []nameEntry{{"Emily", "emily"}, {"Michael", "michael"}, {"Jessica", "jessica"}, {"David", "david"}, {"Ashley", "ashley"}, {"Carlos", "carlos"}},
		last:    []nameEntry{{"Johnson", "johnson"}, {"Williams", "williams"}, {"Garcia", "garcia"}, {"Miller", "miller"}, {"Davis", "davis"}},
		queries: []string{"rain jacket kids", "snow boots", "backpack", "sneakers"},
		stores:  []store{{"st_us_nyc1", "New York SoHo", "New York"}, {"st_us_bos1", "Boston Back Bay", "Boston"}},
	},
	{
		tag: "pl-PL", timezone: "Europe/Warsaw", currency: "PLN", country: "PL", tzOffsetMin: 60,
		phonePrefix: "+48 5", rate: 5.05, decimals: 2,
		first:   []nameEntry{{"Łukasz", "lukasz"}, {"Anna", "anna"}, {"Małgorzata", "malgorzata"}, {"Piotr", "piotr"}, {"Zofia", "zofia"}, {"Michał", "michal"}},
		last:    []nameEntry{{"Kowalski", "kowalski"}, {"Nowak", "nowak"}, {"Wiśniewska", "wisniewska"}, {"Wójcik", "wojcik"}, {"Zieliński", "zielinski"}},
		queries: []string{"kurtka przeciwdeszczowa dziecięca", "kalosze", "buty zimowe", "plecak szkolny"},
		stores:  []store{{"st_pl_waw1", "Warszawa Złote Tarasy", "Warszawa"}, {"st_pl_krk1", "Kraków Galeria", "Kraków"}},
	},
	{
		tag: "el-GR", timezone: "Europe/Athens", currency: "EUR", country: "GR", tzOffsetMin: 120,
		phonePrefix: "+30 69", rate: 1.17, decimals: 2,
		first:   []nameEntry{{"Γιώργος", "giorgos"}, {"Μαρία", "maria"}, {"Ελένη", "eleni"}, {"Νίκος", "nikos"}, {"Κατερίνα", "katerina"}},
		last:    []nameEntry{{"Παπαδόπουλος", "papadopoulos"}, {"Οικονόμου", "oikonomou"}, {"Γεωργίου", "georgiou"}, {"Νικολάου", "nikolaou"}},
		queries: []string{"παιδικό αδιάβροχο", "μπότες βροχής", "σχολική τσάντα", "χειμωνιάτικο μπουφάν"},
		stores:  []store{{"st_gr_ath1", "Αθήνα Ερμού", "Αθήνα"}, {"st_gr_skg1", "Θεσσαλονίκη Τσιμισκή", "Θεσσαλονίκη"}},
	},
	{
		tag: "vi-VN", timezone: "Asia/Ho_Chi_Minh", currency: "VND", country: "VN", tzOffsetMin: 420,
		phonePrefix: "+84 9", rate: 31500, decimals: 0,
		first:   []nameEntry{{"Minh", "minh"}, {"Lan", "lan"}, {"Hương", "huong"}, {"Tuấn", "tuan"}, {"Thảo", "thao"}, {"Đức", "duc"}},
		last:    []nameEntry{{"Nguyễn", "nguyen"}, {"Trần", "tran"}, {"Lê", "le"}, {"Phạm", "pham"}, {"Vũ", "vu"}},
		queries: []string{"áo mưa trẻ em", "giày đi mưa", "ba lô học sinh", "áo khoác mùa đông"},
		stores:  []store{{"st_vn_hcm1", "TP.HCM Quận 1", "Hồ Chí Minh"}, {"st_vn_han1", "Hà Nội Hoàn Kiếm", "Hà Nội"}},
	},
}

var localeCum = cumulative(0.35, 0.20, 0.15, 0.15, 0.15)

// Local hour-of-day weights for the start of a session: quiet at night,
// a lunch bump and an evening peak.
var hourCum = cumulative(
	0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.4, 2.6, 2.8,
	3.2, 3.0, 2.6, 2.5, 2.6, 2.9, 3.4, 4.0, 4.6, 4.4, 3.0, 1.2)

type product struct {
	id, sku, name, brand, category string
	path, url                      string
	price                          float64 // GBP
}

var (
	categories = []string{"Outerwear", "Footwear", "Kids", "Bags", "Home", "Beauty", "Sports", "Electronics"}
	brands     = []string{"Northfield", "Puddle & Co", "Trailmark", "Lumen", "Kestrel", "Oakline"}
	adjectives = []string{"Waterproof", "Lightweight", "Classic", "Recycled", "Insulated", "Everyday"}
	nouns      = map[string][]string{
		"Outerwear":   {"Rain Jacket", "Parka", "Fleece", "Gilet"},
		"Footwear":    {"Wellington Boots", "Trainers", "Hiking Boots", "Sandals"},
		"Kids":        {"Kids Rain Jacket", "Kids Wellies", "School Backpack", "Kids Fleece"},
		"Bags":        {"Backpack", "Tote Bag", "Duffel", "Lunch Bag"},
		"Home":        {"Umbrella", "Throw Blanket", "Water Bottle", "Doormat"},
		"Beauty":      {"Hand Cream", "Lip Balm", "Sun Cream", "Face Wash"},
		"Sports":      {"Running Tights", "Yoga Mat", "Cycling Gloves", "Sports Socks"},
		"Electronics": {"Head Torch", "Power Bank", "Earbuds", "Bike Light"},
	}
	basePrice = map[string]float64{"Outerwear": 64, "Footwear": 48, "Kids": 29, "Bags": 35, "Home": 16, "Beauty": 9, "Sports": 22, "Electronics": 39}
)

// products is the fixed catalogue: the same for every seed, so that
// product ids mean the same thing in every generated data set.
var products = func() []product {
	var out []product
	n := 0
	for ci, c := range categories {
		for ni, noun := range nouns[c] {
			for ai, adj := range adjectives {
				b := brands[(ci+ni+ai)%len(brands)]
				n++
				// Prices vary by a fixed pattern around the category's
				// base, ending in .99 or .50 as shop prices do.
				p := basePrice[c] * (0.7 + 0.1*float64((ni*7+ai*3)%7))
				p = float64(int(p)) + []float64{0.99, 0.50}[n%2]
				out = append(out, product{
					id:       fmt.Sprintf("p_%04d", n),
					sku:      fmt.Sprintf("%s-%03d", strings.ToUpper(c[:3]), n),
					name:     adj + " " + noun,
					brand:    b,
					category: c,
					path:     fmt.Sprintf("/p/%04d", n),
					url:      fmt.Sprintf("%s/p/%04d", webHost, n),
					price:    p,
				})
			}
		}
	}
	return out
}()

// productsByCategory indexes the catalogue so that a session browses
// within one or two categories, as people do.
var productsByCategory = func() map[string][]int {
	m := map[string][]int{}
	for i, p := range products {
		m[p.category] = append(m[p.category], i)
	}
	return m
}()

type deviceModel struct {
	platform             uint8
	os, osVersion        string
	manufacturer, model  string
	library, libVersion  string
	userAgent            string
	appVersion, appBuild string
}

var deviceModels = []deviceModel{
	{platform: pWeb, os: "Windows", osVersion: "10", library: "analytics.js", libVersion: "next-1.70.0",
		userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
	{platform: pWeb, os: "Mac OS X", osVersion: "14.4", library: "analytics.js", libVersion: "next-1.70.0",
		userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"},
	{platform: pWeb, os: "iOS", osVersion: "17.4", library: "analytics.js", libVersion: "next-1.70.0",
		userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"},
	{platform: pWeb, os: "Android", osVersion: "14", library: "analytics.js", libVersion: "next-1.70.0",
		userAgent: "Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"},
	{platform: pIOS, os: "iOS", osVersion: "17.4.1", manufacturer: "Apple", model: "iPhone15,2",
		library: "analytics-swift", libVersion: "1.5.11", appVersion: "3.4.1", appBuild: "341"},
	{platform: pIOS, os: "iOS", osVersion: "16.7", manufacturer: "Apple", model: "iPhone12,1",
		library: "analytics-swift", libVersion: "1.5.11", appVersion: "3.4.0", appBuild: "340"},
	{platform: pAndroid, os: "Android", osVersion: "14", manufacturer: "samsung", model: "SM-S911B",
		library: "analytics-kotlin", libVersion: "1.15.0", appVersion: "3.4.1", appBuild: "3041"},
	{platform: pAndroid, os: "Android", osVersion: "13", manufacturer: "Google", model: "Pixel 7",
		library: "analytics-kotlin", libVersion: "1.15.0", appVersion: "3.4.1", appBuild: "3041"},
	{platform: pAndroid, os: "Android", osVersion: "13", manufacturer: "Xiaomi", model: "Redmi Note 12",
		library: "analytics-kotlin", libVersion: "1.15.0", appVersion: "3.3.9", appBuild: "3039"},
}

// Device mix: browsers (desktop and mobile), iPhones, Android phones.
var deviceCum = cumulative(0.22, 0.12, 0.12, 0.09, 0.13, 0.07, 0.12, 0.07, 0.06)

// webModelCum weighs the browsers alone (the first four models), for the
// channels that land on a web page.
var webModelCum = cumulative(0.22, 0.12, 0.12, 0.09)

const (
	appName      = "Northfield Shop"
	serverLib    = "analytics-node"
	serverLibVer = "2.2.1"
	webHost      = "https://shop.example.com"
)

var pages = []struct{ name, path, url, title string }{
	{"Home", "/", webHost + "/", "Northfield — outdoor clothing for families"},
	{"Category", "/c/", webHost + "/c/", "Shop by category"},
	{"Search", "/search", webHost + "/search", "Search results"},
	{"Product", "/p/", webHost + "/p/", "Product"},
	{"Cart", "/cart", webHost + "/cart", "Your basket"},
	{"Checkout", "/checkout", webHost + "/checkout", "Checkout"},
	{"Order Confirmation", "/checkout/done", webHost + "/checkout/done", "Thank you for your order"},
	{"Account", "/account", webHost + "/account", "Your account"},
	{"Loyalty", "/account/loyalty", webHost + "/account/loyalty", "Loyalty card"},
}

// categoryPaths holds each category page's path and URL.
var categoryPaths = func() map[string][2]string {
	m := map[string][2]string{}
	for _, c := range categories {
		p := "/c/" + strings.ToLower(c)
		m[c] = [2]string{p, webHost + p}
	}
	return m
}()

// referrerOf is the page a campaign's visitor comes from.
func referrerOf(c *campaign) string {
	switch c.source {
	case "google":
		return "https://www.google.com/"
	case "bing":
		return "https://www.bing.com/"
	case "duckduckgo":
		return "https://duckduckgo.com/"
	case "instagram":
		return "https://l.instagram.com/"
	case "facebook":
		return "https://l.facebook.com/"
	case "tiktok":
		return "https://www.tiktok.com/"
	case "friend":
		return "https://wa.me/"
	case "newsletter", "crm":
		return ""
	}
	return "https://" + c.source + "/"
}

const (
	pgHome = iota
	pgCategory
	pgSearch
	pgProduct
	pgCart
	pgCheckout
	pgConfirmation
	pgAccount
	pgLoyalty
)

var (
	callReasons   = []string{"order_status", "delivery_problem", "return", "billing", "product_question"}
	loopReasons   = []string{"billing_dispute", "service_complaint", "billing_dispute", "cancellation_request"}
	chatTopics    = []string{"sizing", "delivery_times", "order_status", "returns", "payment_problem"}
	carriers      = []string{"DPD", "Royal Mail", "InPost", "ELTA Courier", "Giao Hàng Nhanh", "UPS"}
	shipMethods   = []string{"standard", "express", "pickup_point"}
	payMethods    = []string{"card", "paypal", "apple_pay", "google_pay", "blik"}
	refundReasons = []string{"wrong_size", "damaged", "not_as_described", "changed_mind"}
	signupMethods = []string{"email", "google", "apple"}
	cancelReasons = []string{"too_expensive", "poor_service", "not_using", "moved_to_competitor"}
	companies     = []string{"Acme Outdoor Ltd", "Kestrel Schools Trust", "Hellenic Trails", "Zielony Szlak sp. z o.o.", "Công ty Mưa Xanh"}
	industries    = []string{"Education", "Retail", "Hospitality", "Leisure"}
)

// ips are documentation addresses (RFC 5737, RFC 3849): realistic in shape,
// nobody's real address.
var ips = func() []string {
	var out []string
	for _, p := range []string{"192.0.2.", "198.51.100.", "203.0.113."} {
		for i := 1; i < 255; i += 3 {
			out = append(out, fmt.Sprintf("%s%d", p, i))
		}
	}
	for i := 1; i < 40; i++ {
		out = append(out, fmt.Sprintf("2001:db8:%x::%x", i*7, i*13))
	}
	return out
}()
