import { isDeepStrictEqual } from 'node:util';
import type { SubjectCipher } from '../../app/ports/subject-keys.js';
import { contactFrom, hasAddress, type Contact } from '../../domain/notices.js';
import type { SubjectId } from '../../domain/ids.js';
import type { DeletionRequestDocument } from './deletion-request-model.js';

type Sealed = NonNullable<DeletionRequestDocument['sealed']>;

/** A contact that holds an address (a locale alone is not worth a key). */
const addressOf = (doc: DeletionRequestDocument): Contact | null => {
  const stored = doc.finalNotice?.contact ?? null;
  const contact = stored && contactFrom(stored);
  return contact !== null && hasAddress(contact) ? contact : null;
};

/** The document with the final notice's contact replaced (when it has a final notice). */
const withContact = (
  doc: DeletionRequestDocument,
  contact: Contact | null,
): Pick<DeletionRequestDocument, 'finalNotice'> =>
  doc.finalNotice ? { finalNotice: { ...doc.finalNotice, contact } } : {};

/** A contact whose key is gone: no address left, so the notice is undeliverable. */
const SHREDDED_CONTACT: Contact = contactFrom({});

/**
 * The subject's personal data in a document (the requester's reason, the
 * reviewer's note, the deadline extension's reason, the final notice's
 * contact), as it would be sealed; null once the request records its key as
 * destroyed (nothing is sealed any more).
 */
const personalDataOf = (doc: DeletionRequestDocument): Record<string, string> | null => {
  if (doc.subjectKeyDestroyedAt !== null && doc.subjectKeyDestroyedAt !== undefined) return null;
  const contact = addressOf(doc);
  return {
    ...(doc.reason !== '' && { reason: doc.reason }),
    ...(doc.reviewNote !== null && doc.reviewNote !== '' && { reviewNote: doc.reviewNote }),
    ...(contact !== null && { contact: JSON.stringify(contact) }),
    ...(doc.deadlineExtension?.reason && { extensionReason: doc.deadlineExtension.reason }),
  };
};

/** The document with the plain fields of personal data blank and nothing sealed: no key needed. */
export const withoutPersonalData = (doc: DeletionRequestDocument): DeletionRequestDocument => ({
  ...doc,
  reason: '',
  reviewNote: null,
  ...(addressOf(doc) !== null && withContact(doc, null)),
  ...(doc.deadlineExtension && { deadlineExtension: { ...doc.deadlineExtension, reason: '' } }),
  sealed: null,
});

/** Whether two versions of a request differ in what is sealed (so the sealed value must be written again). */
export const personalDataChanged = (
  before: DeletionRequestDocument,
  after: DeletionRequestDocument,
): boolean => !isDeepStrictEqual(personalDataOf(before), personalDataOf(after));

/**
 * The document with the subject's personal data encrypted with the subject's
 * data key, bound to the request, and the plain fields blank. Once the
 * request records the key as destroyed, the data is dropped instead: no key
 * is ever made again for a shredded request.
 */
export const sealPersonalData = async (
  cipher: SubjectCipher,
  doc: DeletionRequestDocument,
): Promise<DeletionRequestDocument> => {
  const plain = personalDataOf(doc);
  const sealed: Sealed =
    plain === null || Object.keys(plain).length === 0
      ? {}
      : await cipher.seal(doc.subjectId as SubjectId, doc._id, plain);
  return {
    ...withoutPersonalData(doc),
    sealed: Object.keys(sealed).length > 0 ? sealed : null,
  };
};

/**
 * The document with its personal data back in the plain fields. When the
 * subject's key is gone the data is absent: an empty reason, no note, and a
 * contact without address (so the final notice is undeliverable, not an
 * error). Documents written before sealing existed are returned as stored.
 */
export const openPersonalData = async (
  cipher: SubjectCipher,
  doc: DeletionRequestDocument,
): Promise<DeletionRequestDocument> => {
  const sealed = doc.sealed;
  if (sealed === null || sealed === undefined) return doc;
  const opened = await cipher.open(doc.subjectId as SubjectId, doc._id, sealed);
  const contact = opened?.contact;
  return {
    ...doc,
    reason: opened?.reason ?? doc.reason,
    reviewNote: opened?.reviewNote ?? (sealed.reviewNote === undefined ? doc.reviewNote : null),
    ...(doc.deadlineExtension && {
      deadlineExtension: { ...doc.deadlineExtension, reason: opened?.extensionReason ?? '' },
    }),
    ...(sealed.contact !== undefined &&
      withContact(
        doc,
        contact === undefined
          ? SHREDDED_CONTACT
          : contactFrom(JSON.parse(contact) as Record<string, unknown>),
      )),
    sealed: null,
  };
};
