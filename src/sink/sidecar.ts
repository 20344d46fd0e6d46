import { z } from "zod";
import { AgentClientError, type AgentEndpoint, getFromMetadata } from "../agent/client.js";
import type { Clock } from "../clock.js";
import { grantName } from "../providers/grant-common.js";
import { needsRefresh } from "../sessions/agent.js";
import { grantKey } from "../sessions/records.js";
import type { SessionDirectory } from "./directory.js";
import { DEFAULT_GIT_HOST, renderLayout, type SinkCredential } from "./layout.js";
import { nextCheckDelay } from "./schedule.js";

// The sidecar: the same files as the broker's own sink, kept by a process next to the sandbox
// that knows nothing but the metadata endpoint and the agent token.

const RETRY_DELAY_MS = 5000;

const date = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be a date");
// Values are written into line-based files (INI, credential-store, env): none may break a line.
const word = z.string().regex(/^\S+$/);

const listingSchema = z.object({
  sessionId: word,
  expiresAt: date,
  grants: z.array(
    z.object({
      provider: z.enum(["aws", "github", "jwt"]),
      // Grant names become file names: held to the scopes' own pattern, so no answer can name a path.
      grant: grantName,
      scope: word,
      expiresAt: date,
      gitHost: z
        .string()
        .regex(/^[A-Za-z0-9.:[\]-]+$/)
        .optional(),
    }),
  ),
});
type ListedGrant = z.infer<typeof listingSchema>["grants"][number];

const awsAnswerSchema = z.object({
  AccessKeyId: word,
  SecretAccessKey: word,
  Token: word,
  Expiration: date,
});
const tokenAnswerSchema = z.object({ token: word, expiresAt: date });

interface Held {
  credential: SinkCredential;
  /** When this sidecar fetched it: no earlier than its issue, so a refresh is never asked for too soon. */
  fetchedAt: number;
}

export interface SidecarOptions {
  endpoint: AgentEndpoint;
  directory: SessionDirectory;
  mountPoint: string;
  /** The metadata endpoint as the sandbox reaches it; absent when the sandbox has no network. */
  metadataUrl: string | undefined;
  clock: Clock;
  /** Longest wait between two polls. */
  pollMs: number;
}

export interface Sidecar {
  /** One poll: lists the grants, fetches what is new or due, writes. Answers `ended` once the files are wiped. */
  sync(): Promise<"live" | "ended">;
  /** Polls until `stop` resolves (`stopped`, files kept) or the session ends (`ended`, files wiped). */
  run(stop: Promise<unknown>, onError: (error: unknown) => void): Promise<"stopped" | "ended">;
}

function credentialOf(listed: ListedGrant, answer: Record<string, unknown>): SinkCredential {
  const common = { grant: listed.grant, scope: listed.scope };
  const parsed =
    listed.provider === "aws" ? awsAnswerSchema.safeParse(answer) : tokenAnswerSchema.safeParse(answer);
  if (!parsed.success) {
    throw new AgentClientError(
      `the metadata endpoint answered ${listed.provider}/${listed.grant} without the expected fields`,
      "PROTOCOL",
    );
  }
  const data = parsed.data;
  if ("AccessKeyId" in data) {
    return {
      ...common,
      provider: "aws",
      expiresAt: Date.parse(data.Expiration),
      accessKeyId: data.AccessKeyId,
      secretAccessKey: data.SecretAccessKey,
      sessionToken: data.Token,
    };
  }
  const expiresAt = Date.parse(data.expiresAt);
  return listed.provider === "github"
    ? {
        ...common,
        provider: "github",
        expiresAt,
        token: data.token,
        gitHost: listed.gitHost ?? DEFAULT_GIT_HOST,
      }
    : { ...common, provider: "jwt", expiresAt, token: data.token };
}

export function createSidecar(options: SidecarOptions): Sidecar {
  const { endpoint, directory, clock } = options;
  const held = new Map<string, Held>();
  let sessionExpiresAt: number | undefined;

  const get = async (path: string) => {
    try {
      return { ended: false as const, answer: await getFromMetadata(endpoint, path) };
    } catch (error) {
      if (error instanceof AgentClientError && error.code === "UNAUTHENTICATED")
        return { ended: true as const };
      throw error;
    }
  };

  const ended = async (): Promise<"ended"> => {
    held.clear();
    await directory.wipe();
    return "ended";
  };

  const sync = async (): Promise<"live" | "ended"> => {
    const listed = await get("v1/credentials");
    if (listed.ended) return ended();
    const listing = listingSchema.safeParse(listed.answer);
    if (!listing.success)
      throw new AgentClientError(
        "the metadata endpoint answered the grant list in an unknown form",
        "PROTOCOL",
      );
    sessionExpiresAt = Date.parse(listing.data.expiresAt);
    for (const grant of listing.data.grants) {
      const current = held.get(grantKey(grant.provider, grant.grant));
      const now = clock.now();
      // A new expiry in the list means the endpoint already serves a newer credential.
      const due =
        !current ||
        current.credential.expiresAt !== Date.parse(grant.expiresAt) ||
        needsRefresh({ issuedAt: current.fetchedAt, expiresAt: current.credential.expiresAt }, now);
      if (!due) continue;
      const fetched = await get(`v1/credentials/${grant.provider}/${grant.grant}`);
      if (fetched.ended) return ended();
      held.set(grantKey(grant.provider, grant.grant), {
        credential: credentialOf(grant, fetched.answer),
        fetchedAt: now,
      });
    }
    const credentials = listing.data.grants.flatMap((g) => {
      const entry = held.get(grantKey(g.provider, g.grant));
      return entry ? [entry.credential] : [];
    });
    await directory.write(
      renderLayout(
        {
          sessionId: listing.data.sessionId,
          expiresAt: sessionExpiresAt,
          agentToken: endpoint.token,
          credentials,
        },
        { mountPoint: options.mountPoint, metadataUrl: options.metadataUrl, socket: false },
      ),
    );
    return "live";
  };

  const delay = () =>
    nextCheckDelay(
      [...held.values()].map((h) => ({ issuedAt: h.fetchedAt, expiresAt: h.credential.expiresAt })),
      sessionExpiresAt,
      clock.now(),
      options.pollMs,
    );

  return {
    sync,
    async run(stop, onError) {
      let stopping = false;
      const stopped = stop.then(() => {
        stopping = true;
      });
      for (;;) {
        let wait: number;
        try {
          if ((await sync()) === "ended") return "ended";
          wait = delay();
        } catch (error) {
          onError(error);
          wait = Math.min(delay(), RETRY_DELAY_MS);
        }
        if (stopping) return "stopped";
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          stopped,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, wait);
          }),
        ]);
        clearTimeout(timer);
        if (stopping) return "stopped";
      }
    },
  };
}
