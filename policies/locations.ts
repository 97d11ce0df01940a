/**
 * The location catalogue: provider → jurisdiction of its headquarters, and provider/region → country.
 * Data only (no imports), so the policy pack, the program and the tests share one copy.
 *
 * Entries here are the minimum CONTRACT §4 requires; each provider cites the page its regions come from.
 */

export interface Region {
    /** ISO 3166-1 alpha-2 country of the data centre. */
    country: string;
    city: string;
}

export interface Provider {
    displayName: string;
    /** ISO 3166-1 alpha-2 country whose law governs the company (its headquarters). */
    jurisdiction: string;
    /** Where the region list comes from. */
    source: string;
    regions: Record<string, Region>;
}

export const EU27: readonly string[] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/** EU-27 plus the EEA EFTA states Iceland, Liechtenstein and Norway. */
export const EEA: readonly string[] = [...EU27, "IS", "LI", "NO"];

export const CATALOGUE: Record<string, Provider> = {
    coolvds: {
        displayName: "CoolVDS",
        jurisdiction: "NO",
        source: "https://www.coolvds.com/",
        regions: { oslo: { country: "NO", city: "Oslo" } },
    },
    hetzner: {
        displayName: "Hetzner",
        jurisdiction: "DE",
        source: "https://docs.hetzner.com/cloud/general/locations/",
        regions: {
            fsn1: { country: "DE", city: "Falkenstein" },
            nbg1: { country: "DE", city: "Nuremberg" },
            hel1: { country: "FI", city: "Helsinki" },
            ash: { country: "US", city: "Ashburn, VA" },
            hil: { country: "US", city: "Hillsboro, OR" },
            sin: { country: "SG", city: "Singapore" },
        },
    },
    scaleway: {
        displayName: "Scaleway",
        jurisdiction: "FR",
        source: "https://www.scaleway.com/en/docs/account/reference-content/products-availability/",
        regions: {
            "fr-par": { country: "FR", city: "Paris" },
            "nl-ams": { country: "NL", city: "Amsterdam" },
            "pl-waw": { country: "PL", city: "Warsaw" },
        },
    },
    upcloud: {
        displayName: "UpCloud",
        jurisdiction: "FI",
        source: "https://upcloud.com/data-centres",
        regions: {
            "fi-hel1": { country: "FI", city: "Helsinki" },
            "de-fra1": { country: "DE", city: "Frankfurt" },
            "se-sto1": { country: "SE", city: "Stockholm" },
            "no-svg1": { country: "NO", city: "Stavanger" },
            "uk-lon1": { country: "GB", city: "London" },
            "us-nyc1": { country: "US", city: "New York" },
        },
    },
    ovh: {
        displayName: "OVHcloud",
        jurisdiction: "FR",
        source: "https://www.ovhcloud.com/en/about-us/global-infrastructure/regions/",
        regions: {
            gra: { country: "FR", city: "Gravelines" },
            sbg: { country: "FR", city: "Strasbourg" },
            waw: { country: "PL", city: "Warsaw" },
            bhs: { country: "CA", city: "Beauharnois" },
        },
    },
    exoscale: {
        displayName: "Exoscale",
        jurisdiction: "CH",
        source: "https://www.exoscale.com/datacenters/",
        regions: {
            "ch-gva-2": { country: "CH", city: "Geneva" },
            "de-fra-1": { country: "DE", city: "Frankfurt" },
            "at-vie-1": { country: "AT", city: "Vienna" },
        },
    },
    aws: {
        displayName: "Amazon Web Services",
        jurisdiction: "US",
        source: "https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html",
        regions: {
            "eu-north-1": { country: "SE", city: "Stockholm" },
            "eu-central-1": { country: "DE", city: "Frankfurt" },
            "us-east-1": { country: "US", city: "N. Virginia" },
        },
    },
    gcp: {
        displayName: "Google Cloud",
        jurisdiction: "US",
        source: "https://cloud.google.com/about/locations",
        regions: { "europe-north1": { country: "FI", city: "Hamina" } },
    },
    azure: {
        displayName: "Microsoft Azure",
        jurisdiction: "US",
        source: "https://learn.microsoft.com/en-us/azure/reliability/regions-list",
        regions: { norwayeast: { country: "NO", city: "Oslo" } },
    },
};

/**
 * Country of a node's location: the catalogue's for provider/region, the declared one for provider
 * "other", undefined when the catalogue does not know the pair (policies then fail closed).
 */
export function resolveCountry(provider: string, region?: string, country?: string): string | undefined {
    if (provider === "other") return country;
    if (region === undefined) return undefined;
    return CATALOGUE[provider]?.regions[region]?.country;
}
