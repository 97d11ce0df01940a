/** Test certificates made with openssl: a throwaway CA and leaf certificates it signs. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface Pem {
    keyFile: string;
    certFile: string;
    key: string;
    cert: string;
}

function pem(keyFile: string, certFile: string): Pem {
    return { keyFile, certFile, key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8") };
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA certificate in DIR/NAME.{key,pem}. */
export function makeCa(dir: string, name: string): Pem {
    const keyFile = path.join(dir, `${name}.key`);
    const certFile = path.join(dir, `${name}.pem`);
    execFileSync("openssl", ["req", "-x509", ...EC_KEY, "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", `/CN=${name}`], { stdio: "pipe" });
    return pem(keyFile, certFile);
}

/** A certificate for DNSNAME signed by CA, in DIR/DNSNAME.{key,pem}. */
export function makeLeaf(dir: string, dnsName: string, ca: Pem): Pem {
    const keyFile = path.join(dir, `${dnsName}.key`);
    const csr = path.join(dir, `${dnsName}.csr`);
    const certFile = path.join(dir, `${dnsName}.pem`);
    const ext = path.join(dir, `${dnsName}.ext`);
    fs.writeFileSync(ext, `subjectAltName=DNS:${dnsName}\nbasicConstraints=CA:FALSE\n`);
    execFileSync("openssl", ["req", ...EC_KEY, "-keyout", keyFile, "-out", csr, "-subj", `/CN=${dnsName}`], { stdio: "pipe" });
    execFileSync("openssl", ["x509", "-req", "-in", csr, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial", "-out", certFile, "-days", "2", "-extfile", ext], { stdio: "pipe" });
    return pem(keyFile, certFile);
}
