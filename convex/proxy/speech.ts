// POST /v1/audio/speech: billed per character of input; the audio bytes pass through.
// OpenAI models get the request as it is; ElevenLabs models get it as a text-to-speech
// request (voice and format mapped by model/proxy/speechVoices.ts).
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import { speechCharacters } from "../model/proxy/estimate";
import { type ElevenLabsSpeech, toElevenLabsSpeech, TranslationError, wavFromPcm } from "../model/proxy/speechVoices";
import { NO_USAGE } from "../model/usage/totals";
import { admitRequest } from "./admission";
import { routeModel } from "./availability";
import { requestIdOf } from "../lib/requestId";
import { readModelRequest } from "./request";
import { badRequest, errorResponse, withOpenAiErrors } from "./respond";
import { answerThenSettle, callUpstream, settle } from "./upstream";

/** OpenAI's limit on one speech request's input. */
export const MAX_SPEECH_CHARACTERS = 4096;

async function speechHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const startedAt = Date.now();
  const opened = await readModelRequest(request);
  if (!opened.ok) return opened.response;
  const { secret, body, model } = opened;
  if (typeof body.input !== "string" || body.input.length === 0) {
    return badRequest("'input' must be a non-empty string.", "input", "missing_required_parameter");
  }
  if (typeof body.voice !== "string" || body.voice.length === 0) {
    return badRequest("You must provide a voice parameter.", "voice", "missing_required_parameter");
  }
  const characters = speechCharacters(body.input);
  if (characters > MAX_SPEECH_CHARACTERS) {
    return badRequest(`'input' is ${characters} characters; the maximum is ${MAX_SPEECH_CHARACTERS}.`, "input", "string_above_max_length");
  }
  const routed = await routeModel(ctx, request, model, "speech");
  if (!routed.ok) return routed.response;
  let eleven: ElevenLabsSpeech | null = null;
  if (routed.provider?.id === "elevenlabs") {
    try {
      eleven = toElevenLabsSpeech(body);
    } catch (e) {
      if (e instanceof TranslationError) return badRequest(e.message, e.param);
      throw e;
    }
  }
  const admission = await admitRequest(ctx, request, {
    secret,
    requestId: requestIdOf(request),
    kind: "speech",
    model,
    promptTokens: 0,
    requestedMaxOutput: null,
    choices: 1,
    characters,
  });
  if (!admission.ok) return admission.response;
  const grant = admission.grant;

  const upstream = await callUpstream(ctx, grant, eleven
    ? { kind: "speech", model, path: eleven.path, body: eleven.body, startedAt }
    : { kind: "speech", model, path: "/audio/speech", body, startedAt });
  if (!upstream.ok) return upstream.response;
  let audio: Uint8Array<ArrayBuffer>;
  try {
    audio = new Uint8Array(await upstream.response.arrayBuffer());
  } catch {
    // The provider started but did not finish: the characters were submitted, bill them.
    await settle(ctx, grant, {
      kind: "speech", model, usage: { ...NO_USAGE, characters },
      usageSource: "estimate", status: "upstream_error", httpStatus: 502, startedAt,
    });
    return errorResponse(502, {
      message: "The AI provider's audio stream broke off.",
      type: "upstream_error",
      code: "upstream_stream_interrupted",
    }, grant.headers);
  }
  // OpenAI reports no usage for speech: the billed unit is the input we counted. ElevenLabs
  // reports the characters it billed (x-character-count); never more than were held.
  const reported = eleven ? routed.provider!.translateUsageMetrics(upstream.response.headers) : null;
  const contentType = eleven?.contentType ?? upstream.response.headers.get("content-type") ?? "audio/mpeg";
  return answerThenSettle(ctx, grant, eleven?.wrapWav ? wavFromPcm(audio) : audio, contentType, {
    kind: "speech",
    model,
    usage: { ...NO_USAGE, characters: reported ? Math.min(reported.characters, characters) : characters },
    usageSource: "provider",
    startedAt,
  });
}

export const speech = httpAction(withOpenAiErrors(speechHandler));
