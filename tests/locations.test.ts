import { CATALOGUE, COUNTRY_SETS, EEA, EU27, expandCountries, findProvider, providerKey, resolveCountry } from "../policies/locations";

/** Every entry CONTRACT §4 requires, with its country. */
const REQUIRED: [string, string][] = [
    ["coolvds/oslo", "NO"], ["hetzner/fsn1", "DE"], ["hetzner/nbg1", "DE"], ["hetzner/hel1", "FI"], ["hetzner/ash", "US"],
    ["hetzner/hil", "US"], ["hetzner/sin", "SG"], ["scaleway/fr-par", "FR"], ["scaleway/nl-ams", "NL"], ["scaleway/pl-waw", "PL"],
    ["upcloud/fi-hel1", "FI"], ["upcloud/de-fra1", "DE"], ["upcloud/se-sto1", "SE"], ["upcloud/no-svg1", "NO"],
    ["upcloud/uk-lon1", "GB"], ["upcloud/us-nyc1", "US"], ["ovh/gra", "FR"], ["ovh/sbg", "FR"], ["ovh/waw", "PL"], ["ovh/bhs", "CA"],
    ["exoscale/ch-gva-2", "CH"], ["exoscale/de-fra-1", "DE"], ["exoscale/at-vie-1", "AT"], ["aws/eu-north-1", "SE"],
    ["aws/eu-central-1", "DE"], ["aws/us-east-1", "US"], ["gcp/europe-north1", "FI"], ["azure/norwayeast", "NO"],
];

/** ISO 3166-1 alpha-2 codes the catalogue may use (assigned codes; "UK" is not one: the UK is GB). */
const ISO_ALPHA2 = new Set(
    ("AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
        "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT " +
        "JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI " +
        "NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK " +
        "TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW").split(" "),
);

describe("location catalogue", () => {
    test.each(REQUIRED)("%s is in %s", (key, country) => {
        const [provider, region] = key.split("/");
        expect(resolveCountry(provider, region)).toBe(country);
    });

    test("every country code and jurisdiction is ISO 3166-1 alpha-2", () => {
        for (const [key, p] of Object.entries(CATALOGUE)) {
            expect([key, ISO_ALPHA2.has(p.jurisdiction)]).toEqual([key, true]);
            for (const [region, r] of Object.entries(p.regions)) expect([`${key}/${region}`, ISO_ALPHA2.has(r.country)]).toEqual([`${key}/${region}`, true]);
        }
        for (const code of EEA) expect(ISO_ALPHA2.has(code)).toBe(true);
    });

    test("provider keys and aliases never collide, and keys are slugs the config accepts", () => {
        const names = Object.entries(CATALOGUE).flatMap(([key, p]) => [key, ...(p.aliases ?? [])]);
        expect(new Set(names).size).toBe(names.length);
        expect(names).not.toContain("other");
        for (const [key, p] of Object.entries(CATALOGUE)) {
            expect(key).toMatch(/^[a-z0-9][a-z0-9-]*$/);
            for (const region of Object.keys(p.regions)) expect(region).toMatch(/^[a-z0-9][a-z0-9-]*$/);
        }
    });

    test("every provider cites an https page and has a display name", () => {
        for (const p of Object.values(CATALOGUE)) {
            expect(p.source).toMatch(/^https:\/\/[a-z0-9.-]+\//);
            expect(p.displayName.length).toBeGreaterThan(2);
        }
    });

    test("the US CLOUD Act providers are under US jurisdiction; the European ones are not", () => {
        for (const p of ["aws", "azure", "gcp", "digitalocean", "linode", "akamai", "vultr", "oracle"]) expect(findProvider(p)?.jurisdiction).toBe("US");
        for (const p of ["coolvds", "hetzner", "scaleway", "upcloud", "ovh", "exoscale"]) expect(findProvider(p)?.jurisdiction).not.toBe("US");
    });

    test("aliases resolve to the provider", () => {
        expect(providerKey("akamai")).toBe("linode");
        expect(resolveCountry("akamai", "se-sto")).toBe("SE");
        expect(providerKey("nope")).toBeUndefined();
    });

    test("EU-27 and EEA are the named sets", () => {
        expect(EU27).toHaveLength(27);
        expect(new Set(EU27).size).toBe(27);
        expect([...EEA].sort()).toEqual([...EU27, "IS", "LI", "NO"].sort());
        expect(EEA).not.toContain("CH");
        expect(EEA).not.toContain("GB");
        expect(COUNTRY_SETS).toEqual({ EU27, EEA });
        expect(expandCountries(["EEA", "ch", "NO"]).sort()).toEqual([...EEA, "CH"].sort());
    });

    test("resolveCountry: provider other takes the declared country; unknown pairs are undefined", () => {
        expect(resolveCountry("other", undefined, "IS")).toBe("IS");
        expect(resolveCountry("hetzner", "fra9")).toBeUndefined();
        expect(resolveCountry("hetzner")).toBeUndefined();
        expect(resolveCountry("acme", "x1")).toBeUndefined();
        expect(resolveCountry("hetzner", "constructor")).toBeUndefined();
        expect(resolveCountry("toString", "x")).toBeUndefined();
    });
});
