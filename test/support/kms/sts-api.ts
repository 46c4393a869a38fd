import { randomUUID } from 'node:crypto';
import { ApiError, type Caller, type RequestRecord, type ServerState } from './state.js';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** STS's Query protocol: form-encoded POST with `Action=...`, XML responses. `caller` is absent for unsigned calls. */
export function handleSts(state: ServerState, params: URLSearchParams, caller: Caller | undefined, record: RequestRecord, now = Date.now()): string {
  const action = params.get('Action') ?? '';
  record.operation = action;
  switch (action) {
    case 'AssumeRole': {
      if (!caller) throw new ApiError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      const { role, sessionName, duration } = roleRequest(state, params, record);
      const trusted = role?.trust.principals ?? [];
      if (!role || !(trusted.includes(caller.arn) || (caller.roleArn !== undefined && trusted.includes(caller.roleArn)))) {
        throw new ApiError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.get('RoleArn')}`);
      }
      const session = state.issueSession(role.arn, sessionName, duration, now);
      return credentialsResponse('AssumeRole', session, sessionName, '');
    }
    case 'AssumeRoleWithWebIdentity': {
      const { role, sessionName, duration } = roleRequest(state, params, record);
      const token = params.get('WebIdentityToken') ?? '';
      if (!role || role.trust.webIdentityToken === undefined) {
        throw new ApiError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      }
      if (token !== role.trust.webIdentityToken) throw new ApiError(400, 'InvalidIdentityToken', 'The web identity token is not valid for this role');
      const session = state.issueSession(role.arn, sessionName, duration, now);
      const extra = '<SubjectFromWebIdentityToken>test-subject</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Provider>test-oidc-provider</Provider>';
      return credentialsResponse('AssumeRoleWithWebIdentity', session, sessionName, extra);
    }
    case 'GetCallerIdentity': {
      if (!caller) throw new ApiError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      const account = /::(\d{12}):/.exec(caller.arn)?.[1] ?? '';
      return wrap('GetCallerIdentity', `<Arn>${xml(caller.arn)}</Arn><UserId>${xml(caller.accessKeyId)}</UserId><Account>${account}</Account>`);
    }
    default:
      throw new ApiError(400, 'InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? ''}`);
  }
}

export function stsErrorResponse(error: ApiError): string {
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${xml(error.code)}</Code><Message>${xml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function roleRequest(state: ServerState, params: URLSearchParams, record: RequestRecord) {
  const roleArn = params.get('RoleArn') ?? '';
  const sessionName = params.get('RoleSessionName') ?? '';
  if (!SESSION_NAME.test(sessionName)) {
    throw new ApiError(400, 'ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*");
  }
  record.roleSessionName = sessionName;
  const durationText = params.get('DurationSeconds');
  const duration = durationText === null ? 3600 : Number(durationText);
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) throw new ApiError(400, 'ValidationError', 'DurationSeconds must be 900 to 43200');
  return { role: state.roles.get(roleArn), sessionName, duration };
}

function credentialsResponse(action: string, session: ReturnType<ServerState['issueSession']>, sessionName: string, extra: string): string {
  const expiration = new Date(session.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return wrap(
    action,
    `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${xml(session.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${xml(session.sessionToken)}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
      `<AssumedRoleUser><AssumedRoleId>${session.roleId}:${xml(sessionName)}</AssumedRoleId><Arn>${xml(session.arn)}</Arn></AssumedRoleUser>` +
      `<PackedPolicySize>0</PackedPolicySize>${extra}`,
  );
}

function wrap(action: string, result: string): string {
  return `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
