/**
 * The location catalogue: provider → jurisdiction of its headquarters, and provider/region → country.
 * Data only (no imports), so the policy pack, the program and the tests share one copy.
 *
 * Each provider cites the page its region list comes from. Region keys are the names the provider
 * itself uses (API zone/region identifiers), so a node's `region` is what its provider calls it.
 * A provider/region pair that is not here is unknown: the residency policy then fails closed.
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
    /** Other keys users write for this provider (a rename, the parent company). */
    aliases?: readonly string[];
    regions: Record<string, Region>;
}

/** The 27 member states of the European Union. */
export const EU27: readonly string[] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/** EU-27 plus the EEA EFTA states Iceland, Liechtenstein and Norway. */
export const EEA: readonly string[] = [...EU27, "IS", "LI", "NO"];

/** Named country sets a policy configuration may use in place of listing the codes. */
export const COUNTRY_SETS: Readonly<Record<string, readonly string[]>> = { EU27, EEA };

export const CATALOGUE: Record<string, Provider> = {
    coolvds: {
        displayName: "CoolVDS",
        jurisdiction: "NO",
        // CoolVDS runs one data centre, in Oslo.
        source: "https://www.coolvds.com/",
        regions: { oslo: { country: "NO", city: "Oslo" } },
    },
    hetzner: {
        displayName: "Hetzner",
        jurisdiction: "DE",
        // Cloud locations; dedicated servers live in the same sites (FSN1, NBG1, HEL1).
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
        // Regions (each with zones -1, -2, -3); a zone name resolves like its region.
        source: "https://www.scaleway.com/en/docs/account/reference-content/products-availability/",
        regions: {
            "fr-par": { country: "FR", city: "Paris" },
            "fr-par-1": { country: "FR", city: "Paris" },
            "fr-par-2": { country: "FR", city: "Paris" },
            "fr-par-3": { country: "FR", city: "Paris" },
            "nl-ams": { country: "NL", city: "Amsterdam" },
            "nl-ams-1": { country: "NL", city: "Amsterdam" },
            "nl-ams-2": { country: "NL", city: "Amsterdam" },
            "nl-ams-3": { country: "NL", city: "Amsterdam" },
            "pl-waw": { country: "PL", city: "Warsaw" },
            "pl-waw-1": { country: "PL", city: "Warsaw" },
            "pl-waw-2": { country: "PL", city: "Warsaw" },
            "pl-waw-3": { country: "PL", city: "Warsaw" },
        },
    },
    upcloud: {
        displayName: "UpCloud",
        jurisdiction: "FI",
        source: "https://upcloud.com/data-centres",
        regions: {
            "fi-hel1": { country: "FI", city: "Helsinki" },
            "fi-hel2": { country: "FI", city: "Helsinki" },
            "de-fra1": { country: "DE", city: "Frankfurt" },
            "se-sto1": { country: "SE", city: "Stockholm" },
            "dk-cph1": { country: "DK", city: "Copenhagen" },
            "nl-ams1": { country: "NL", city: "Amsterdam" },
            "es-mad1": { country: "ES", city: "Madrid" },
            "pl-waw1": { country: "PL", city: "Warsaw" },
            // Kept because the project's contract lists it; UpCloud's public zone list of
            // late 2025 (14 zones) does not show a Norwegian zone.
            "no-svg1": { country: "NO", city: "Stavanger" },
            "uk-lon1": { country: "GB", city: "London" },
            "us-nyc1": { country: "US", city: "New York" },
            "us-chi1": { country: "US", city: "Chicago" },
            "us-sjo1": { country: "US", city: "San Jose" },
            "sg-sin1": { country: "SG", city: "Singapore" },
            "au-syd1": { country: "AU", city: "Sydney" },
        },
    },
    ovh: {
        displayName: "OVHcloud",
        jurisdiction: "FR",
        aliases: ["ovhcloud"],
        // Site codes (the prefix of OpenStack regions such as GRA11, SBG5, WAW1).
        source: "https://www.ovhcloud.com/en/about-us/global-infrastructure/regions/",
        regions: {
            gra: { country: "FR", city: "Gravelines" },
            sbg: { country: "FR", city: "Strasbourg" },
            rbx: { country: "FR", city: "Roubaix" },
            par: { country: "FR", city: "Paris" },
            waw: { country: "PL", city: "Warsaw" },
            lim: { country: "DE", city: "Limburg (Frankfurt region)" },
            mil: { country: "IT", city: "Milan" },
            eri: { country: "GB", city: "Erith (London region)" },
            bhs: { country: "CA", city: "Beauharnois" },
            tor: { country: "CA", city: "Toronto" },
            vin: { country: "US", city: "Vint Hill, VA" },
            hil: { country: "US", city: "Hillsboro, OR" },
            sgp: { country: "SG", city: "Singapore" },
            syd: { country: "AU", city: "Sydney" },
            ynm: { country: "IN", city: "Mumbai" },
        },
    },
    exoscale: {
        displayName: "Exoscale",
        jurisdiction: "CH",
        // The zone names of Exoscale's API (ZoneName enum).
        source: "https://www.exoscale.com/datacenters/",
        regions: {
            "ch-gva-2": { country: "CH", city: "Geneva" },
            "ch-dk-2": { country: "CH", city: "Zurich" },
            "de-fra-1": { country: "DE", city: "Frankfurt" },
            "de-muc-1": { country: "DE", city: "Munich" },
            "at-vie-1": { country: "AT", city: "Vienna" },
            "at-vie-2": { country: "AT", city: "Vienna" },
            "bg-sof-1": { country: "BG", city: "Sofia" },
        },
    },
    aws: {
        displayName: "Amazon Web Services",
        jurisdiction: "US",
        // The European regions, the European Sovereign Cloud (own partition, operated by German
        // subsidiaries of Amazon, a US company) and us-east-1.
        source: "https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html",
        regions: {
            "eu-north-1": { country: "SE", city: "Stockholm" },
            "eu-central-1": { country: "DE", city: "Frankfurt" },
            "eu-central-2": { country: "CH", city: "Zurich" },
            "eu-west-1": { country: "IE", city: "Dublin" },
            "eu-west-2": { country: "GB", city: "London" },
            "eu-west-3": { country: "FR", city: "Paris" },
            "eu-south-1": { country: "IT", city: "Milan" },
            "eu-south-2": { country: "ES", city: "Aragón" },
            "eusc-de-east-1": { country: "DE", city: "Brandenburg" },
            "us-east-1": { country: "US", city: "N. Virginia" },
        },
    },
    gcp: {
        displayName: "Google Cloud",
        jurisdiction: "US",
        aliases: ["google"],
        source: "https://cloud.google.com/about/locations",
        regions: {
            "europe-central2": { country: "PL", city: "Warsaw" },
            "europe-north1": { country: "FI", city: "Hamina" },
            "europe-north2": { country: "SE", city: "Stockholm" },
            "europe-southwest1": { country: "ES", city: "Madrid" },
            "europe-west1": { country: "BE", city: "St. Ghislain" },
            "europe-west2": { country: "GB", city: "London" },
            "europe-west3": { country: "DE", city: "Frankfurt" },
            "europe-west4": { country: "NL", city: "Eemshaven" },
            "europe-west6": { country: "CH", city: "Zurich" },
            "europe-west8": { country: "IT", city: "Milan" },
            "europe-west9": { country: "FR", city: "Paris" },
            "europe-west10": { country: "DE", city: "Berlin" },
            "europe-west12": { country: "IT", city: "Turin" },
            "us-central1": { country: "US", city: "Council Bluffs, IA" },
        },
    },
    azure: {
        displayName: "Microsoft Azure",
        jurisdiction: "US",
        // Programmatic region names; restricted-access regions (norwaywest, germanynorth, ...) included.
        source: "https://learn.microsoft.com/en-us/azure/reliability/regions-list",
        regions: {
            austriaeast: { country: "AT", city: "Vienna" },
            belgiumcentral: { country: "BE", city: "Brussels" },
            francecentral: { country: "FR", city: "Paris" },
            francesouth: { country: "FR", city: "Marseille" },
            germanywestcentral: { country: "DE", city: "Frankfurt" },
            germanynorth: { country: "DE", city: "Berlin" },
            italynorth: { country: "IT", city: "Milan" },
            northeurope: { country: "IE", city: "Dublin" },
            westeurope: { country: "NL", city: "Amsterdam" },
            norwayeast: { country: "NO", city: "Oslo" },
            norwaywest: { country: "NO", city: "Stavanger" },
            polandcentral: { country: "PL", city: "Warsaw" },
            spaincentral: { country: "ES", city: "Madrid" },
            swedencentral: { country: "SE", city: "Gävle" },
            switzerlandnorth: { country: "CH", city: "Zurich" },
            switzerlandwest: { country: "CH", city: "Geneva" },
            uksouth: { country: "GB", city: "London" },
            ukwest: { country: "GB", city: "Cardiff" },
            eastus: { country: "US", city: "Virginia" },
        },
    },
    digitalocean: {
        displayName: "DigitalOcean",
        jurisdiction: "US",
        source: "https://docs.digitalocean.com/platform/regional-availability/",
        regions: {
            ams3: { country: "NL", city: "Amsterdam" },
            fra1: { country: "DE", city: "Frankfurt" },
            lon1: { country: "GB", city: "London" },
            nyc3: { country: "US", city: "New York" },
            sfo3: { country: "US", city: "San Francisco" },
            tor1: { country: "CA", city: "Toronto" },
            sgp1: { country: "SG", city: "Singapore" },
        },
    },
    linode: {
        displayName: "Akamai Cloud (Linode)",
        jurisdiction: "US",
        aliases: ["akamai"],
        source: "https://www.linode.com/global-infrastructure/",
        regions: {
            "eu-central": { country: "DE", city: "Frankfurt" },
            "de-fra-2": { country: "DE", city: "Frankfurt" },
            "eu-west": { country: "GB", city: "London" },
            "gb-lon": { country: "GB", city: "London" },
            "fr-par": { country: "FR", city: "Paris" },
            "nl-ams": { country: "NL", city: "Amsterdam" },
            "se-sto": { country: "SE", city: "Stockholm" },
            "it-mil": { country: "IT", city: "Milan" },
            "es-mad": { country: "ES", city: "Madrid" },
            "us-east": { country: "US", city: "Newark, NJ" },
        },
    },
    vultr: {
        displayName: "Vultr",
        jurisdiction: "US",
        source: "https://www.vultr.com/features/datacenter-locations/",
        regions: {
            ams: { country: "NL", city: "Amsterdam" },
            fra: { country: "DE", city: "Frankfurt" },
            cdg: { country: "FR", city: "Paris" },
            mad: { country: "ES", city: "Madrid" },
            sto: { country: "SE", city: "Stockholm" },
            waw: { country: "PL", city: "Warsaw" },
            lhr: { country: "GB", city: "London" },
            man: { country: "GB", city: "Manchester" },
            tlv: { country: "IL", city: "Tel Aviv" },
            ewr: { country: "US", city: "New Jersey" },
        },
    },
    oracle: {
        displayName: "Oracle Cloud Infrastructure",
        jurisdiction: "US",
        aliases: ["oci"],
        source: "https://docs.oracle.com/en-us/iaas/Content/General/Concepts/regions.htm",
        regions: {
            "eu-frankfurt-1": { country: "DE", city: "Frankfurt" },
            "eu-amsterdam-1": { country: "NL", city: "Amsterdam" },
            "eu-stockholm-1": { country: "SE", city: "Stockholm" },
            "eu-milan-1": { country: "IT", city: "Milan" },
            "eu-madrid-1": { country: "ES", city: "Madrid" },
            "eu-paris-1": { country: "FR", city: "Paris" },
            "eu-marseille-1": { country: "FR", city: "Marseille" },
            "eu-zurich-1": { country: "CH", city: "Zurich" },
            "eu-jovanovac-1": { country: "RS", city: "Jovanovac" },
            "uk-london-1": { country: "GB", city: "London" },
            "uk-cardiff-1": { country: "GB", city: "Newport" },
            "us-ashburn-1": { country: "US", city: "Ashburn, VA" },
        },
    },
};

/** The catalogue key of PROVIDER, following aliases (e.g. "akamai" → "linode"); undefined when unknown. */
export function providerKey(provider: string): string | undefined {
    if (Object.prototype.hasOwnProperty.call(CATALOGUE, provider)) return provider;
    return Object.keys(CATALOGUE).find((key) => CATALOGUE[key].aliases?.includes(provider));
}

/** The catalogue entry of PROVIDER (or of a provider it is an alias of). */
export function findProvider(provider: string): Provider | undefined {
    const key = providerKey(provider);
    return key === undefined ? undefined : CATALOGUE[key];
}

/**
 * Country of a node's location: the catalogue's for provider/region, the declared one for provider
 * "other", undefined when the catalogue does not know the pair (policies then fail closed).
 */
export function resolveCountry(provider: string, region?: string, country?: string): string | undefined {
    if (provider === "other") return country;
    if (region === undefined) return undefined;
    const regions = findProvider(provider)?.regions;
    return regions !== undefined && Object.prototype.hasOwnProperty.call(regions, region) ? regions[region].country : undefined;
}

/** Expands named sets ("EEA", "EU27") in a list of country codes; upper-cases, drops duplicates. */
export function expandCountries(entries: readonly string[]): string[] {
    const out = new Set<string>();
    for (const entry of entries) {
        const set = COUNTRY_SETS[entry];
        for (const code of set ?? [entry.toUpperCase()]) out.add(code);
    }
    return [...out];
}
