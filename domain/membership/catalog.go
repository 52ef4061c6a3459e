package membership

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// How a billing price names the tier it sells. A price is a tier's price
// when its lookup key is TierLookupKeyPrefix followed by the tier id
// ("wdai_tier_community"); otherwise when the price's metadata, or else its
// product's metadata, holds TierMetadataKey = the tier id. The lookup key
// wins over metadata, and price metadata over product metadata.
const (
	TierLookupKeyPrefix = "wdai_tier_"
	TierMetadataKey     = "wdai_tier"
	// TierOrderMetadataKey (price, else product metadata) is the tier's
	// display order, an integer.
	TierOrderMetadataKey = "wdai_order"
)

var validTierID = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// ValidTierID reports whether id can name a tier: lower-case letters,
// digits, '_' and '-', starting with a letter, at most 63 characters.
func ValidTierID(id string) bool { return validTierID.MatchString(id) }

// TierMatch is the outcome of matching one price against the tier naming
// rules.
type TierMatch struct {
	// TierID is the tier the price sells; empty when the price names none.
	TierID string
	// Invalid is set when the price names a tier with an id that is not
	// valid (the price is then not used).
	Invalid bool
}

// MatchTier applies the naming rules to a price's lookup key, its metadata
// and its product's metadata.
func MatchTier(lookupKey string, priceMeta, productMeta map[string]string) TierMatch {
	var id string
	switch {
	case strings.HasPrefix(lookupKey, TierLookupKeyPrefix):
		id = strings.TrimPrefix(lookupKey, TierLookupKeyPrefix)
	case strings.TrimSpace(priceMeta[TierMetadataKey]) != "":
		id = strings.TrimSpace(priceMeta[TierMetadataKey])
	case strings.TrimSpace(productMeta[TierMetadataKey]) != "":
		id = strings.TrimSpace(productMeta[TierMetadataKey])
	default:
		return TierMatch{}
	}
	if !ValidTierID(id) {
		return TierMatch{TierID: id, Invalid: true}
	}
	return TierMatch{TierID: id}
}

// TierOrder returns the display order set in the price's metadata, else
// the product's, and whether one was set and is an integer.
func TierOrder(priceMeta, productMeta map[string]string) (int, bool) {
	for _, m := range []map[string]string{priceMeta, productMeta} {
		if v, ok := m[TierOrderMetadataKey]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err == nil && n >= 0 && n <= 1_000_000 {
				return n, true
			}
		}
	}
	return 0, false
}

// zeroDecimal are the currencies whose amounts have no minor unit.
var zeroDecimal = map[string]bool{"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true,
	"mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true}

var currencySymbols = map[string]string{"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}

// PriceDisplay renders a recurring price for people: "$15 / month",
// "$15.50 / month", "€150 / year", "$40 / 3 months". amount is in the
// currency's minor unit, as billing providers give it.
func PriceDisplay(amount int64, currency, interval string, count int) string {
	currency = strings.ToLower(currency)
	var num string
	if zeroDecimal[currency] {
		num = strconv.FormatInt(amount, 10)
	} else {
		num = strconv.FormatInt(amount/100, 10)
		if cents := amount % 100; cents != 0 {
			num += fmt.Sprintf(".%02d", cents)
		}
	}
	price := strings.ToUpper(currency) + " " + num
	if sym, ok := currencySymbols[currency]; ok {
		price = sym + num
	}
	if interval == "" {
		return price
	}
	if count <= 1 {
		return price + " / " + interval
	}
	return fmt.Sprintf("%s / %d %ss", price, count, interval)
}
