/**
 * Who may read and write which topic (spec §6): the `permissions` option of `createSessionServer`,
 * compiled once into a {@link TopicAccess}.
 *
 * @module
 */

/**
 * Roles that may read and write the topics a pattern matches. A role `'*'` stands for any
 * authenticated user. A missing or empty list allows nobody.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const rule: TopicRule = { read: ['member', 'admin'], write: ['admin'] };
 * ```
 */
export interface TopicRule {
  read?: readonly string[];
  write?: readonly string[];
}

/**
 * Topic patterns mapped to the roles that may read and write them. In a pattern `*` matches any
 * run of characters (also none) and `{sub}` the connection's user id (the token's `sub`) as a
 * **whole segment**: `{sub}` must not touch a `*` (`TypeError` otherwise), and the character
 * that follows it in any pattern (and `/` always) is a segment separator. A user id that contains
 * a separator never matches `{sub}` and has no private `user:<sub>` topic. So `user:{sub}/*` gives
 * user `bob` `user:bob/notes`, which can then never be the private topic of a user whose sub is
 * `bob/notes`.
 *
 * - The **first** pattern (in the object's key order) that matches a topic decides; when none
 *   matches, the topic is refused. (JavaScript orders integer-like keys such as `'42'` first.)
 * - `user:<sub>` topics are private to their user: a `user:…` topic is only ever decided by a
 *   pattern that itself starts with `user:`, so a catch-all `'*'` never opens them; when no such
 *   pattern matches, only the user `<sub>` may read and write `user:<sub>`.
 * - Without the option every authenticated user may read and write every topic except other
 *   users' `user:<sub>` topics.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const permissions: TopicPermissions = {
 *   'public:*': { read: ['member', 'admin'], write: ['admin'] },
 *   'user:{sub}': { read: ['*'], write: ['*'] },
 *   'user:*': { read: ['admin'] }, // admins may read every user's topic
 * };
 * ```
 */
export type TopicPermissions = Readonly<Record<string, TopicRule>>;

/** The identity a permission check looks at. */
export interface Principal {
  userId: string;
  /** Sorted and deduplicated. */
  roles: readonly string[];
}

/** Decides topic access for connections and names their effective read permission. */
export interface TopicAccess {
  /**
   * The principal's effective read permission on `topic` as a string, equal for two principals
   * exactly when the same grant lets them read (so they may share one fan-out group), or
   * `undefined` when reading is refused.
   */
  readGrant(topic: string, principal: Principal): string | undefined;
  /** Whether the principal may publish to `topic`. */
  canWrite(topic: string, principal: Principal): boolean;
}

/** Namespace of the per-user private topics. */
export const USER_TOPIC_PREFIX = 'user:';
const ANY_USER = '*';
const SUB_PLACEHOLDER = '{sub}';
/**
 * Separates the segments of a topic for `{sub}`: a user id containing it never matches `{sub}`
 * and owns no `user:<sub>` topic, so a `{sub}/…` pattern of one user can never reach another's.
 */
export const TOPIC_SEGMENT_SEPARATOR = '/';

/** Whether `userId` contains one of the separators (and so may not stand for `{sub}`). */
const spansSegments = (userId: string, separators: ReadonlySet<string>): boolean => {
  for (const separator of separators) if (userId.includes(separator)) return true;
  return false;
};

interface CompiledRule {
  index: number;
  pattern: string;
  /** A pattern without `{sub}` compiles once; with it, per user id. */
  match: (topic: string, userId: string) => boolean;
  read: ReadonlySet<string>;
  write: ReadonlySet<string>;
}

/**
 * Compiles the `permissions` option.
 *
 * @param permissions - the option, or `undefined` for the defaults
 * @throws TypeError when the option is malformed
 */
export function compilePermissions(permissions: TopicPermissions | undefined): TopicAccess {
  const separators = new Set([TOPIC_SEGMENT_SEPARATOR]);
  const rules = permissions === undefined ? undefined : compileRules(permissions, separators);
  const owns = (topic: string, userId: string) =>
    topic === USER_TOPIC_PREFIX + userId && !spansSegments(userId, separators);

  /** The rule deciding `topic`, `'owner'` for the private default, `'all'` for the open default, or undefined. */
  const decide = (topic: string, userId: string): CompiledRule | 'owner' | 'all' | undefined => {
    const isUserTopic = topic.startsWith(USER_TOPIC_PREFIX);
    if (rules !== undefined) {
      for (const rule of rules) {
        if (isUserTopic && !rule.pattern.startsWith(USER_TOPIC_PREFIX)) continue;
        if (rule.match(topic, userId)) return rule;
      }
    }
    if (isUserTopic) return owns(topic, userId) ? 'owner' : undefined;
    return rules === undefined ? 'all' : undefined;
  };

  return {
    readGrant(topic, { userId, roles }) {
      const rule = decide(topic, userId);
      if (rule === undefined) return undefined;
      if (rule === 'owner' || rule === 'all') return rule;
      if (rule.read.has(ANY_USER)) return `${rule.index}:*`;
      const granting = roles.filter((role) => rule.read.has(role));
      return granting.length === 0 ? undefined : `${rule.index}:${JSON.stringify(granting)}`;
    },
    canWrite(topic, { userId, roles }) {
      const rule = decide(topic, userId);
      if (rule === undefined) return false;
      if (rule === 'owner' || rule === 'all') return true;
      return rule.write.has(ANY_USER) || roles.some((role) => rule.write.has(role));
    },
  };
}

/** Compiles every rule; adds the character after each `{sub}` to `separators`. */
function compileRules(permissions: TopicPermissions, separators: Set<string>): CompiledRule[] {
  if (typeof permissions !== 'object' || permissions === null || Array.isArray(permissions)) {
    throw new TypeError('"permissions" must be an object mapping topic patterns to { read, write }');
  }
  return Object.entries(permissions).map(([pattern, rule], index) => {
    if (pattern.length === 0) throw new TypeError('"permissions" patterns must be non-empty strings');
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      throw new TypeError(`"permissions[${JSON.stringify(pattern)}]" must be an object { read?, write? }`);
    }
    return {
      index,
      pattern,
      match: compilePattern(pattern, separators),
      read: roleSet(rule.read, pattern, 'read'),
      write: roleSet(rule.write, pattern, 'write'),
    };
  });
}

function roleSet(roles: readonly string[] | undefined, pattern: string, field: string): ReadonlySet<string> {
  if (roles === undefined) return new Set();
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string' && role.length > 0)) {
    throw new TypeError(`"permissions[${JSON.stringify(pattern)}].${field}" must be an array of non-empty role names`);
  }
  return new Set(roles);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `*` → any run of characters; `{sub}` → the user id as a whole segment; everything else literally. */
function compilePattern(pattern: string, separators: Set<string>): (topic: string, userId: string) => boolean {
  const parts = pattern.split(SUB_PLACEHOLDER);
  for (let i = 1; i < parts.length; i++) {
    const before = parts[i - 1] ?? '';
    const after = parts[i] ?? '';
    if (before.endsWith('*') || after.startsWith('*') || (after === '' && i < parts.length - 1)) {
      throw new TypeError(
        `"permissions" pattern ${JSON.stringify(pattern)}: {sub} must be a whole segment (not next to "*" or another {sub})`,
      );
    }
    const follower = after.charAt(0);
    if (follower !== '') separators.add(follower);
  }
  const source = (userId: string) =>
    pattern
      .split(SUB_PLACEHOLDER)
      .map((part) => part.split('*').map(escapeRegExp).join('[^]*'))
      .join(escapeRegExp(userId));
  if (!pattern.includes(SUB_PLACEHOLDER)) {
    const regexp = new RegExp(`^${source('')}$`);
    return (topic) => regexp.test(topic);
  }
  // Built per check: a user id is arbitrary text, and these checks are rare next to a store write.
  return (topic, userId) => !spansSegments(userId, separators) && new RegExp(`^${source(userId)}$`).test(topic);
}
