// A local GitHub for Latchkey's tests: GitHub Apps with real RSA keys, installation tokens in
// both of GitHub's formats, revocation, repository reads and git fetches, on a loopback port.
import { generateKeyPair, generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createFailureInjector } from "./failures.js";
import { createGitRepositories } from "./git.js";
import { createGitRoute } from "./git-route.js";
import { isoSeconds } from "./http.js";
import { createRegistry } from "./installations.js";
import { createObjectBuilders } from "./objects.js";
import { loadExtractedSchemas, permissionLevels } from "./openapi/schemas.js";
import { createRestHandlers } from "./rest.js";
import { createRequestHandler, routeNames } from "./server.js";
import { createTokenStore } from "./tokens.js";
import type { GithubAppSpec, GithubEmulator, GithubEmulatorOptions, RecordedRequest } from "./types.js";

export type {
  GithubAppKeys,
  GithubAppSpec,
  GithubEmulator,
  GithubEmulatorOptions,
  GithubPermissions,
  GithubRepositorySpec,
  IssuedTokenInfo,
  RecordedRequest,
} from "./types.js";
export { routeNames };

const rsa = {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
} as const;

const generatePrivateKey = () =>
  new Promise<string>((resolve, reject) =>
    generateKeyPair("rsa", rsa, (error, _publicKey, privateKey) =>
      error ? reject(error) : resolve(privateKey),
    ),
  );

export async function startGithubEmulator(options: GithubEmulatorOptions = {}): Promise<GithubEmulator> {
  const now = options.now ?? Date.now;
  const schemas = loadExtractedSchemas();
  const registry = createRegistry();
  const tokens = createTokenStore(now);
  const failures = createFailureInjector(routeNames);
  const requests: RecordedRequest[] = [];

  // Keys are generated in parallel at start; addApp, being synchronous, makes its own.
  const keyed = await Promise.all(
    (options.apps ?? []).map(async (spec) => ({ spec, privateKeyPem: await generatePrivateKey() })),
  );
  for (const { spec, privateKeyPem } of keyed) registry.addApp(spec, privateKeyPem);

  const git = await createGitRepositories();
  const server = createServer();
  try {
    await Promise.all(registry.repositories().map((r) => git.ensure(r)));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
  } catch (error) {
    await git.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  const baseUrl = `http://${host}`;

  const handle = createRequestHandler({
    rest: createRestHandlers({
      registry,
      tokens,
      now,
      objects: createObjectBuilders({ baseUrl, createdAt: isoSeconds(now()), templates: schemas.templates }),
      documentationUrl: (operationId) => schemas.operations[operationId].documentationUrl,
      permissionLevels: permissionLevels(schemas),
    }),
    serveGit: createGitRoute({ registry, tokens, git }),
    failures,
    now,
    requests,
  });
  server.on("request", (req, res) => void handle(req, res));

  return {
    baseUrl,
    host,
    app(id) {
      const app = registry.app(id);
      if (app === undefined) throw new TypeError(`no app ${id}`);
      return { id: app.id, clientId: app.clientId, slug: app.slug, privateKeyPem: app.privateKeyPem };
    },
    addApp(spec: GithubAppSpec) {
      registry.addApp(spec, generateKeyPairSync("rsa", rsa).privateKey);
      // Creation is memoized per repository, so only the new ones start here.
      for (const repository of registry.repositories()) void git.ensure(repository);
    },
    tokenState: (token) => tokens.state(token),
    get issuedTokens() {
      return tokens.all().map((t) => ({
        appId: t.appId,
        installationId: t.installationId,
        format: t.format,
        repositories: t.repositoryNames,
        permissions: t.permissions,
        expiresAt: isoSeconds(t.expiresAtMs),
      }));
    },
    failNext(route, status, times = 1) {
      failures.add(route, status, times);
    },
    get requests() {
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await git.close();
    },
  };
}
