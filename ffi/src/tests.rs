#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use super::*;

/// The clock of these tests (2027-01-15).
const NOW: u64 = 1_800_000_000;

fn kp(name: &[u8]) -> *mut MeetkeyKeyPackage {
    let mut out = std::ptr::null_mut();
    // SAFETY: valid pointers.
    let r = unsafe { meetkey_key_package_new(name.as_ptr(), name.len(), NOW, &mut out) };
    assert_eq!(r, R::MeetkeyOk);
    out
}

fn take(m: *mut MeetkeyMeeting, welcome: bool) -> Vec<u8> {
    let mut len = 0usize;
    let f = if welcome {
        meetkey_meeting_take_welcome
    } else {
        meetkey_meeting_take_handshake
    };
    // SAFETY: a live handle; zero-capacity query.
    let r = unsafe { f(m, std::ptr::null_mut(), 0, &mut len) };
    assert_eq!(r, R::MeetkeyBufferTooShort);
    let mut buf = vec![0u8; len];
    // SAFETY: buffer of `len` bytes.
    let r = unsafe { f(m, buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!(r, R::MeetkeyOk);
    buf.truncate(len);
    buf
}

#[test]
fn boundary_turns_panics_into_a_code() {
    let r = meetkey_boundary!({
        if std::hint::black_box(true) {
            panic!("boom");
        }
        Ok(())
    });
    assert_eq!(r, R::MeetkeyPanic);
    let r = meetkey_boundary!({ Err(R::MeetkeyStale) });
    assert_eq!(r, R::MeetkeyStale);
}

#[test]
fn null_pointers_are_refused() {
    // SAFETY: NULLs are what is tested.
    unsafe {
        assert_eq!(
            meetkey_key_package_new(std::ptr::null(), 3, NOW, &mut std::ptr::null_mut()),
            R::MeetkeyNullPointer
        );
        assert_eq!(
            meetkey_key_package_new(b"a".as_ptr(), 1, NOW, std::ptr::null_mut()),
            R::MeetkeyNullPointer
        );
        assert_eq!(
            meetkey_meeting_rotate(std::ptr::null_mut(), NOW),
            R::MeetkeyNullPointer
        );
        let mut e = 0u64;
        assert_eq!(
            meetkey_meeting_epoch(std::ptr::null_mut(), &mut e),
            R::MeetkeyNullPointer
        );
        let mut none: *mut MeetkeyKeyPackage = std::ptr::null_mut();
        let mut out = std::ptr::null_mut();
        assert_eq!(
            meetkey_meeting_create(
                &mut none,
                b"m".as_ptr(),
                1,
                c"eu".as_ptr(),
                c"".as_ptr(),
                &mut out
            ),
            R::MeetkeyNullPointer
        );
        meetkey_meeting_free(std::ptr::null_mut());
        meetkey_key_package_free(std::ptr::null_mut());
    }
    let name = meetkey_result_name(11);
    // SAFETY: a static NUL-terminated string.
    let s = unsafe { std::ffi::CStr::from_ptr(name) };
    assert_eq!(s.to_str().unwrap(), "MEETKEY_PANIC");
    // SAFETY: as above.
    let s = unsafe { std::ffi::CStr::from_ptr(meetkey_result_name(999)) };
    assert_eq!(s.to_str().unwrap(), "MEETKEY_UNKNOWN");
}

#[test]
fn a_meeting_through_the_abi() {
    // SAFETY: every pointer below is valid for its stated length.
    unsafe {
        let mut a = kp(b"alice");
        let mut alice = std::ptr::null_mut();
        assert_eq!(
            meetkey_meeting_create(
                &mut a,
                b"m1".as_ptr(),
                2,
                c"eu-west".as_ptr(),
                c"CN, RU".as_ptr(),
                &mut alice
            ),
            R::MeetkeyOk
        );
        assert!(a.is_null(), "the key package was consumed");
        // A bad policy is an invalid argument.
        let mut x = kp(b"x");
        let mut out = std::ptr::null_mut();
        assert_eq!(
            meetkey_meeting_create(
                &mut x,
                b"m".as_ptr(),
                1,
                c"eu-west".as_ptr(),
                c"CHINA".as_ptr(),
                &mut out
            ),
            R::MeetkeyInvalidArgument
        );
        assert!(!x.is_null());
        meetkey_key_package_free(x);

        let mut b = kp(b"bob");
        let mut len = 0;
        assert_eq!(
            meetkey_key_package_encode(b, std::ptr::null_mut(), 0, &mut len),
            R::MeetkeyBufferTooShort
        );
        let mut kpb = vec![0u8; len];
        assert_eq!(
            meetkey_key_package_encode(b, kpb.as_mut_ptr(), len, &mut len),
            R::MeetkeyOk
        );
        assert_eq!(
            meetkey_meeting_add(alice, kpb.as_ptr(), kpb.len(), NOW),
            R::MeetkeyOk
        );
        // A second commit while one is pending is refused.
        assert_eq!(meetkey_meeting_rotate(alice, NOW), R::MeetkeyApiMisuse);
        let commit = take(alice, false);
        // No Welcome until the commit is confirmed.
        assert_eq!(
            meetkey_meeting_take_welcome(alice, std::ptr::null_mut(), 0, &mut len),
            R::MeetkeyNothingPending
        );
        // The server's echo confirms.
        assert_eq!(
            meetkey_meeting_process(alice, commit.as_ptr(), commit.len()),
            R::MeetkeyOk
        );
        let welcome = take(alice, true);
        assert_eq!(
            meetkey_meeting_take_welcome(alice, std::ptr::null_mut(), 0, &mut len),
            R::MeetkeyNothingPending
        );
        let mut bob = std::ptr::null_mut();
        assert_eq!(
            meetkey_meeting_join_welcome(&mut b, welcome.as_ptr(), welcome.len(), &mut bob),
            R::MeetkeyOk
        );
        let (mut ea, mut eb) = (0u64, 0u64);
        assert_eq!(meetkey_meeting_epoch(alice, &mut ea), R::MeetkeyOk);
        assert_eq!(meetkey_meeting_epoch(bob, &mut eb), R::MeetkeyOk);
        assert_eq!((ea, eb), (1, 1));

        // Security codes agree.
        let mut ca: [c_char; 48] = [0; 48];
        let mut cb: [c_char; 48] = [0; 48];
        let mut short: [c_char; 10] = [0; 10];
        assert_eq!(
            meetkey_meeting_security_code(alice, short.as_mut_ptr(), 10, &mut len),
            R::MeetkeyBufferTooShort
        );
        assert_eq!(len, 48);
        assert_eq!(
            meetkey_meeting_security_code(alice, ca.as_mut_ptr(), 48, &mut len),
            R::MeetkeyOk
        );
        assert_eq!(
            meetkey_meeting_security_code(bob, cb.as_mut_ptr(), 48, &mut len),
            R::MeetkeyOk
        );
        assert_eq!(ca, cb);

        // Frames.
        let frame_of = |m: *mut MeetkeyMeeting, p: &[u8]| {
            let mut len = 0;
            assert_eq!(
                meetkey_meeting_encrypt(
                    m,
                    0,
                    b"md".as_ptr(),
                    2,
                    p.as_ptr(),
                    p.len(),
                    std::ptr::null_mut(),
                    0,
                    &mut len
                ),
                R::MeetkeyBufferTooShort
            );
            let mut f = vec![0u8; len];
            assert_eq!(
                meetkey_meeting_encrypt(
                    m,
                    0,
                    b"md".as_ptr(),
                    2,
                    p.as_ptr(),
                    p.len(),
                    f.as_mut_ptr(),
                    f.len(),
                    &mut len
                ),
                R::MeetkeyOk
            );
            f.truncate(len);
            f
        };
        let f1 = frame_of(alice, b"hello bob");
        let mut plain = vec![0u8; 64];
        let (mut sender, mut epoch) = (9u32, 9u64);
        assert_eq!(
            meetkey_meeting_decrypt(
                bob,
                b"md".as_ptr(),
                2,
                f1.as_ptr(),
                f1.len(),
                NOW,
                plain.as_mut_ptr(),
                2,
                &mut len,
                &mut sender,
                &mut epoch
            ),
            R::MeetkeyBufferTooShort
        );
        assert_eq!(len, f1.len());
        assert_eq!(
            meetkey_meeting_decrypt(
                bob,
                b"md".as_ptr(),
                2,
                f1.as_ptr(),
                f1.len(),
                NOW,
                plain.as_mut_ptr(),
                plain.len(),
                &mut len,
                &mut sender,
                &mut epoch
            ),
            R::MeetkeyOk
        );
        assert_eq!((&plain[..len], sender, epoch), (&b"hello bob"[..], 0, 1));
        // Replay and tamper.
        assert_eq!(
            meetkey_meeting_decrypt(
                bob,
                b"md".as_ptr(),
                2,
                f1.as_ptr(),
                f1.len(),
                NOW,
                plain.as_mut_ptr(),
                plain.len(),
                &mut len,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            R::MeetkeyStale
        );
        let mut f2 = frame_of(alice, b"x");
        let last = f2.len() - 1;
        f2[last] ^= 1;
        assert_eq!(
            meetkey_meeting_decrypt(
                bob,
                b"md".as_ptr(),
                2,
                f2.as_ptr(),
                f2.len(),
                NOW,
                plain.as_mut_ptr(),
                plain.len(),
                &mut len,
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ),
            R::MeetkeyAuthenticationFailed
        );
        // Garbage handshake is an invalid message, and changes nothing.
        assert_eq!(
            meetkey_meeting_process(bob, kpb.as_ptr(), kpb.len() - 1),
            R::MeetkeyInvalidMessage
        );

        // Bob rotates; an epoch-1 frame still decrypts at Alice in epoch 2.
        let late = frame_of(bob, b"late");
        assert_eq!(meetkey_meeting_rotate(bob, NOW), R::MeetkeyOk);
        let c = take(bob, false);
        assert_eq!(meetkey_meeting_confirm(bob), R::MeetkeyOk);
        assert_eq!(
            meetkey_meeting_process(alice, c.as_ptr(), c.len()),
            R::MeetkeyOk
        );
        assert_eq!(meetkey_meeting_epoch(alice, &mut ea), R::MeetkeyOk);
        assert_eq!(ea, 2);
        assert_eq!(
            meetkey_meeting_decrypt(
                alice,
                b"md".as_ptr(),
                2,
                late.as_ptr(),
                late.len(),
                NOW,
                plain.as_mut_ptr(),
                plain.len(),
                &mut len,
                &mut sender,
                &mut epoch
            ),
            R::MeetkeyOk
        );
        assert_eq!((&plain[..len], epoch), (&b"late"[..], 1));

        // Events.
        let (mut k, mut e, mut l) = (MeetkeyEventKind::MeetkeyEventLeft, 0u64, 0u32);
        let mut kinds = Vec::new();
        while meetkey_meeting_next_event(alice, &mut k, &mut e, &mut l) == R::MeetkeyOk {
            kinds.push(k);
        }
        assert!(kinds.contains(&MeetkeyEventKind::MeetkeyEventParticipantJoined));
        assert!(kinds.contains(&MeetkeyEventKind::MeetkeyEventRotated));

        meetkey_meeting_free(alice);
        meetkey_meeting_free(bob);
    }
}
